/* main.c - posternd: configuration, modules, signals, the event loop. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "host/conn.h"
#include "host/host.h"
#include "host/modules.h"
#include "host/service.h"
#include "host/auth_penalty.h"
#include "mail/auth_cache.h"
#include "host/sasl.h"
#include "host/stats.h"
#include "host/tls.h"
#include "host/delivery_pool.h"
#include "host/offload_pool.h"
#include "host/resolver.h"
#include "host/runtime_settings.h"
#include "host/tls_client.h"
#include "host/verify_pool.h"
#include "host/workers.h"
#include "lib/config.h"
#include "lib/core_settings.h"
#include "lib/log.h"
#include "lib/privileges.h"
#include "lib/xalloc.h"
#include "store/store.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/postern.conf"

static struct ev_loop *loop;
static struct core_settings settings;
static struct tls_settings tls_set;
static struct auth_settings auth_set;
static unsigned int nworkers = 1;
static bool shutting_down;
static ev_timer shutdown_timer;
static const char *config_path = DEFAULT_CONFIG;
static char **overrides;
static size_t n_overrides;

/* Before the loop waits: commit the Seen flags this turn's RETRs queued,
 * in one transaction, so other sessions see them at once. */
static void on_prepare(struct ev_loop *l, ev_prepare *w, int revents)
{
	const char *error;

	(void)l;
	(void)w;
	(void)revents;
	if (store_seen_flush(&error) < 0)
		log_msg(LOG_WARNING, "STORE", "cannot record Seen flags: %s", error);
}

static void on_conn_closed(void)
{
	if (shutting_down && conn_total() == 0)
		ev_break(loop, EVBREAK_ALL);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: posternd [-f] [-t] [-c FILE] [-o key=value]...\n"
		"  -c FILE       configuration file (default %s)\n"
		"  -o key=value  override a setting, e.g. -o pop.listen=127.0.0.1:1100\n"
		"  -f            stay in the foreground\n"
		"  -t            check the configuration and modules, then exit\n"
		"  -V            print the version\n", DEFAULT_CONFIG);
}

/* Read the file and overrides into a config and core settings. */
/* postern.conf, then data_dir/settings.conf (the web admin's), then
 * -o; extra (the web admin's change being checked) on top of all. */
static struct config *read_config_with(struct core_settings *set,
				       struct tls_settings *tls,
				       struct auth_settings *auth,
				       const char *const *extra, size_t n_extra,
				       const char **error_r)
{
	struct config *cfg = config_new();
	struct core_settings where;

	if (config_read_file(cfg, config_path, false, error_r) < 0)
		goto fail;
	for (size_t i = 0; i < n_overrides; i++) {
		if (config_add_override(cfg, overrides[i], error_r) < 0)
			goto fail;
	}
	/* data_dir is known only now; settings.conf goes in before -o */
	memset(&where, 0, sizeof(where));
	if (core_settings_load(cfg, &where, error_r) < 0)
		goto fail;
	config_free(&cfg);
	cfg = config_new();
	if (config_read_file(cfg, config_path, false, error_r) < 0 ||
	    runtime_settings_read(cfg, where.data_dir, error_r) < 0) {
		core_settings_free(&where);
		goto fail;
	}
	core_settings_free(&where);
	for (size_t i = 0; i < n_extra; i++) {
		if (config_add_override_from(cfg, extra[i], RUNTIME_CHANGE_ORIGIN, error_r) < 0)
			goto fail;
	}
	for (size_t i = 0; i < n_overrides; i++) {
		if (config_add_override(cfg, overrides[i], error_r) < 0)
			goto fail;
	}
	if (core_settings_load(cfg, set, error_r) < 0 ||
	    tls_settings_load(cfg, tls, error_r) < 0 ||
	    auth_settings_load(cfg, auth, set->cleartext_secrets, error_r) < 0)
		goto fail;
	return cfg;
fail:
	config_free(&cfg);
	return NULL;
}

static struct config *read_config(struct core_settings *set,
				  struct tls_settings *tls,
				  struct auth_settings *auth, const char **error_r)
{
	return read_config_with(set, tls, auth, NULL, 0, error_r);
}

/* The web admin's check of a change: the whole configuration as a reload
 * would take it (runtime_settings.h). */
static struct config *build_checked(const char *const *extra, size_t n,
				    const char **error_r)
{
	struct core_settings fresh;
	struct tls_settings fresh_tls;
	struct auth_settings fresh_auth;
	struct tls_contexts *tls_new = NULL;
	struct config *cfg;

	memset(&fresh, 0, sizeof(fresh));
	memset(&fresh_tls, 0, sizeof(fresh_tls));
	memset(&fresh_auth, 0, sizeof(fresh_auth));
	cfg = read_config_with(&fresh, &fresh_tls, &fresh_auth, extra, n, error_r);
	if (cfg != NULL && (tls_prepare(&fresh_tls, &tls_new, error_r) < 0 ||
			    modules_reload_check(cfg, error_r) < 0 ||
			    config_check_unused(cfg, NULL, error_r) < 0))
		config_free(&cfg);
	tls_discard(tls_new);
	if (fresh.data_dir != NULL)
		core_settings_free(&fresh);
	tls_settings_free(&fresh_tls);
	auth_settings_free(&fresh_auth);
	return cfg;
}

/* Reload every serving process: with workers the master passes SIGHUP
 * on; alone, this process takes it from its own signal watcher. */
static void request_reload(void)
{
	if (nworkers > 1 && host_worker() > 0)
		kill(getppid(), SIGHUP);
	else
		kill(getpid(), SIGHUP);
}

static void apply_log_settings(const struct core_settings *set)
{
	const char *error;
	enum log_level level = LOG_INFO;

	log_parse_level(set->log_level, &level);
	log_set_level(level);
	if (log_open(set->log_target, &error) < 0)
		log_msg(LOG_ERROR, "HOST", "%s (logging to stderr)", error);
}

static void on_sighup(struct ev_loop *l, ev_signal *w, int revents)
{
	struct core_settings fresh;
	struct tls_settings fresh_tls;
	struct auth_settings fresh_auth;
	struct tls_contexts *tls_new = NULL;
	struct config *cfg;
	const char *error;

	(void)l;
	(void)w;
	(void)revents;
	memset(&fresh, 0, sizeof(fresh));
	memset(&fresh_tls, 0, sizeof(fresh_tls));
	memset(&fresh_auth, 0, sizeof(fresh_auth));
	log_msg(LOG_NOTICE, "HOST", "SIGHUP: reloading %s", config_path);
	cfg = read_config(&fresh, &fresh_tls, &fresh_auth, &error);
	/* all or nothing: certificates are built first but made current only
	 * when everything else checked out (new TLS listeners need them) */
	if (cfg == NULL || tls_prepare(&fresh_tls, &tls_new, &error) < 0 ||
	    modules_reload_check(cfg, &error) < 0 ||
	    config_check_unused(cfg, NULL, &error) < 0) {
		log_msg(LOG_ERROR, "HOST", "reload failed, old settings stay: %s",
			error);
		tls_discard(tls_new);
		core_settings_free(&fresh);
		tls_settings_free(&fresh_tls);
		auth_settings_free(&fresh_auth);
		config_free(&cfg);
		return;
	}
	tls_commit(tls_new);
	if (modules_reload(cfg, &error) < 0)	/* checked above: cannot fail */
		log_msg(LOG_ERROR, "HOST", "reload: %s", error);
	if (strcmp(fresh.data_dir, settings.data_dir) != 0)
		log_msg(LOG_WARNING, "HOST",
			"data_dir changed: takes effect after a restart");
	if (fresh_auth.verify_threads != auth_set.verify_threads)
		log_msg(LOG_WARNING, "HOST",
			"auth.verify_threads changed: takes effect after a restart");
	/* module list and data_dir need a restart; the rest applies now */
	free(fresh.data_dir);
	fresh.data_dir = settings.data_dir;
	settings.data_dir = NULL;
	core_settings_free(&settings);
	settings = fresh;
	tls_settings_free(&tls_set);
	tls_set = fresh_tls;
	auth_settings_free(&auth_set);
	auth_set = fresh_auth;
	sasl_global_set(&auth_set);
	core_settings_set_current(&settings);
	log_reopen();
	apply_log_settings(&settings);
	config_free(&cfg);
	log_msg(LOG_NOTICE, "HOST", "configuration reloaded");
}

static void on_shutdown_timeout(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	log_msg(LOG_NOTICE, "HOST", "shutdown grace over: closing %u connections",
		conn_total());
	modules_close_connections();
	ev_break(l, EVBREAK_ALL);
}

static void on_sigterm(struct ev_loop *l, ev_signal *w, int revents)
{
	(void)revents;
	if (shutting_down) {
		log_msg(LOG_NOTICE, "HOST", "second signal: stopping now");
		modules_close_connections();
		ev_break(l, EVBREAK_ALL);
		return;
	}
	shutting_down = true;
	log_msg(LOG_NOTICE, "HOST",
		"signal %d: no new connections; %u sessions get %us to finish",
		w->signum, conn_total(), settings.shutdown_timeout);
	modules_stop_listening();
	/* background work ends: a queue runner closes its connections */
	modules_stop_serving();
	if (conn_total() == 0) {
		ev_break(l, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&shutdown_timer, on_shutdown_timeout,
		      settings.shutdown_timeout, 0.);
	ev_timer_start(l, &shutdown_timer);
}

static int write_pid_file(const char *path, const char **error_r)
{
	static char err[512];
	char line[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, sizeof(err), "cannot write pid_file %s: %s", path,
			 strerror(errno));
		*error_r = err;
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	(void)!write(fd, line, (size_t)n);
	close(fd);
	return 0;
}

/* The write end of the pipe the waiting parent reads; -1 in the foreground. */
static int ready_fd = -1;

/* Fork into the background.  The parent waits until the daemon says it is
 * ready (store open, listeners bound, pid file written) and exits 0, or 1
 * when the daemon failed first: init systems and scripts may rely on the
 * pid file and the port as soon as the command returns. */
static int daemonize(const char **error_r)
{
	static char err[128];
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(err, sizeof(err), "cannot become a daemon: %s",
			 strerror(errno));
		*error_r = err;
		return -1;
	}
	if (pid > 0) {
		char status = 1;

		close(fds[1]);
		while (read(fds[0], &status, 1) < 0 && errno == EINTR)
			;
		_exit(status == 0 ? 0 : 1);
	}
	close(fds[0]);
	ready_fd = fds[1];
	setsid();
	if (chdir("/") < 0)
		log_msg(LOG_WARNING, "HOST", "cannot chdir to /: %s", strerror(errno));
	return 0;
}

/* Tell a waiting parent we are up, and let go of the terminal. */
static void daemon_ready(void)
{
	char ok = 0;
	int null;

	if (ready_fd < 0)
		return;
	(void)!write(ready_fd, &ok, 1);
	close(ready_fd);
	ready_fd = -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

/* Release everything, so a leak checker sees only real leaks. */
static int exit_cleanly(int status)
{
	const char *error;

	modules_unload();
	/* the sessions are gone: deliveries still under way finish and are
	 * freed (nobody is told), before the store closes */
	delivery_pool_stop();
	offload_pool_stop();
	verify_pool_stop();
	resolver_stop();
	tls_client_free_all();
	if (store_is_open() && store_seen_flush(&error) < 0)
		log_msg(LOG_WARNING, "STORE", "cannot record Seen flags: %s", error);
	store_close();
	tls_deconfigure();
	tls_settings_free(&tls_set);
	sasl_global_done();
	auth_penalty_free_all();
	auth_cache_clear();
	auth_settings_free(&auth_set);
	if (settings.data_dir != NULL)
		core_settings_free(&settings);
	free(overrides);
	if (loop != NULL)
		ev_loop_destroy(loop);
	log_close();
	return status;
}

/* The event loop of a serving process (the only one, or a worker). */
static int serve(void)
{
	ev_signal sig_hup, sig_term, sig_int;
	ev_prepare prepare;
	const char *error;

	store_seen_defer(true);
	if (verify_pool_start(loop, auth_set.verify_threads, &error) < 0 ||
	    delivery_pool_start(loop, settings.delivery_threads, &error) < 0 ||
	    offload_pool_start(loop, &error) < 0 ||
	    resolver_start(loop, &error) < 0) {
		log_msg(LOG_ERROR, "HOST", "%s", error);
		return -1;
	}
	/* background work (the relay's queue) runs in one process only:
	 * the only one, or worker 1 */
	if (host_worker() <= 1)
		modules_serve();
	ev_prepare_init(&prepare, on_prepare);
	ev_prepare_start(loop, &prepare);
	ev_signal_init(&sig_hup, on_sighup, SIGHUP);
	ev_signal_init(&sig_term, on_sigterm, SIGTERM);
	ev_signal_init(&sig_int, on_sigterm, SIGINT);
	ev_signal_start(loop, &sig_hup);
	ev_signal_start(loop, &sig_term);
	ev_signal_start(loop, &sig_int);
	ev_run(loop, 0);
	ev_prepare_stop(loop, &prepare);
	ev_signal_stop(loop, &sig_hup);
	ev_signal_stop(loop, &sig_term);
	ev_signal_stop(loop, &sig_int);
	return 0;
}

/* A worker process, just forked from the master. */
static int worker_main(unsigned int number)
{
	const char *error;

	if (ready_fd >= 0) {	/* the master tells the waiting parent */
		close(ready_fd);
		ready_fd = -1;
	}
	host_set_worker(number, nworkers);
	if (store_open(settings.data_dir, &error) < 0) {
		log_msg(LOG_ERROR, "HOST", "worker %u: %s", number, error);
		return exit_cleanly(1);
	}
	modules_activate_listeners();
	return exit_cleanly(serve() < 0 ? 1 : 0);
}

int main(int argc, char **argv)
{
	bool foreground = false, check_only = false;
	struct config *cfg;
	const char *error;
	int opt;

	while ((opt = getopt(argc, argv, "c:o:ftVh")) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'o':
			overrides = xrealloc(overrides, (n_overrides + 1) * sizeof(char *));
			overrides[n_overrides++] = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			check_only = true;
			break;
		case 'V':
			printf("posternd %s (module ABI %d)\n", PACKAGE_VERSION,
			       POSTERN_MODULE_ABI);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "posternd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	cfg = read_config(&settings, &tls_set, &auth_set, &error);
	if (cfg == NULL) {
		fprintf(stderr, "posternd: %s\n", error);
		return exit_cleanly(1);
	}
	core_settings_set_current(&settings);
	runtime_settings_hooks(build_checked, request_reload);
	if (modules_load(&settings, cfg, &error) < 0 ||
	    config_check_unused(cfg, NULL, &error) < 0) {
		fprintf(stderr, "posternd: %s\n", error);
		config_free(&cfg);
		return exit_cleanly(1);
	}
	config_free(&cfg);
	if (check_only) {
		/* certificates are part of the configuration: load them too */
		log_set_level(LOG_WARNING);
		if (workers_parse(settings.workers, &nworkers, &error) < 0 ||
		    tls_configure(&tls_set, &error) < 0 ||
		    modules_check(&error) < 0) {
			fprintf(stderr, "posternd: %s\n", error);
			return exit_cleanly(1);
		}
		printf("posternd: %s: configuration OK\n", config_path);
		return exit_cleanly(0);
	}

	if (workers_parse(settings.workers, &nworkers, &error) < 0) {
		fprintf(stderr, "posternd: %s\n", error);
		return exit_cleanly(1);
	}
	/* the master binds, the workers accept */
	service_set_passive(nworkers > 1);
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(EVFLAG_AUTO);
	host_init(loop, on_conn_closed);
	apply_log_settings(&settings);
	if (settings.main_domain[0] == '\0')
		log_msg(LOG_WARNING, "HOST",
			"main_domain is not set: logins must name their domain");
	/* try the store and the listeners while errors still reach the
	 * terminal; LMDB's locks belong to the process that opened the
	 * environment, so after daemon()'s fork it is opened again */
	/* a store opened as root would leave root's files in data_dir:
	 * with `user`, it is opened only after the drop */
	bool dropping = settings.user[0] != '\0' && geteuid() == 0;

	if (stats_init(&error) < 0 ||
	    tls_configure(&tls_set, &error) < 0 ||
	    sasl_global_init(&auth_set, &error) < 0 ||
	    (!dropping && store_open(settings.data_dir, &error) < 0) ||
	    modules_start(&error) < 0) {
		log_msg(LOG_ERROR, "HOST", "%s", error);
		return exit_cleanly(1);
	}
	if (!foreground) {
		store_close();
		if (daemonize(&error) < 0) {
			log_msg(LOG_ERROR, "HOST", "%s", error);
			return exit_cleanly(1);
		}
		ev_loop_fork(loop);
	}
	if (settings.pid_file[0] != '\0' &&
	    write_pid_file(settings.pid_file, &error) < 0) {
		log_msg(LOG_ERROR, "HOST", "%s", error);
		return exit_cleanly(1);
	}
	/* listeners are bound and certificates read: root is not needed */
	if (privileges_drop(settings.user, settings.data_dir, &error) < 0 ||
	    (!store_is_open() && store_open(settings.data_dir, &error) < 0)) {
		log_msg(LOG_ERROR, "HOST", "%s", error);
		return exit_cleanly(1);
	}
	if (nworkers > 1) {
		/* the master: no store, no sessions; the workers inherit the
		 * listening sockets and open the store after their fork */
		int status;

		store_close();
		host_set_worker(0, nworkers);
		log_msg(LOG_NOTICE, "HOST", "posternd %s started (pid %ld, %u workers, data_dir %s)",
			PACKAGE_VERSION, (long)getpid(), nworkers, settings.data_dir);
		daemon_ready();
		status = workers_run(loop, nworkers, worker_main);
		log_msg(LOG_NOTICE, "HOST", "posternd stopped");
		if (settings.pid_file[0] != '\0')
			unlink(settings.pid_file);
		return exit_cleanly(status);
	}
	daemon_ready();
	log_msg(LOG_NOTICE, "HOST", "posternd %s started (pid %ld, data_dir %s)",
		PACKAGE_VERSION, (long)getpid(), settings.data_dir);
	int status = serve() < 0 ? 1 : 0;

	log_msg(LOG_NOTICE, "HOST", "posternd stopped");
	if (settings.pid_file[0] != '\0')
		unlink(settings.pid_file);
	return exit_cleanly(status);
}
