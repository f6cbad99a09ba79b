/* store.c - the LMDB environment, transactions with retry, map growth. */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/secret.h"
#include "store/store.h"
#include "store/store_internal.h"

/* LMDB reserves address space, not disk: start big so growth is rare.
 * MDB_MAP_FULL doubles it, up to the maximum. */
#define STORE_MAP_INITIAL (1ull << 30)
#define STORE_MAP_MAX (1ull << 40)
/* Retries of one transaction for map growth before giving up. */
#define STORE_TXN_RETRIES 8
#define STORE_MAX_READERS 4096

static const char *const db_names[DB_COUNT] = {
	"meta", "domains", "accounts", "mailboxes", "messages",
	"acl", "acl_identifiers", "domain_aliases", "aliases", "bindings",
	"usage", "settings", "queue", "queue_due", "alerts", "alerts_shown",
	"retrieval", "retrieval_due", "retrieval_seen"
};

static MDB_env *env;
static size_t initial_map_size = STORE_MAP_INITIAL;
static MDB_dbi dbis[DB_COUNT];
static char *data_dir;
/* Error texts live until the next store call of the same thread: posternd
 * commits deliveries on a thread of its own (host/delivery_pool.c). */
static _Thread_local char errbuf[4096 + 512];
/* Transactions hold it shared; changing the map size (ours grown, or
 * another process's adopted) holds it alone, since LMDB allows that only
 * while no transaction of this process is open.  Writers preferred, so a
 * stream of readers cannot keep a growth waiting. */
static pthread_rwlock_t map_lock;
static pthread_once_t map_lock_once = PTHREAD_ONCE_INIT;

static void map_lock_init(void)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&map_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* Resize with no transaction of this process open: 0 adopts the size
 * another process set. */
static int set_map_size(size_t size)
{
	int rc;

	pthread_rwlock_wrlock(&map_lock);
	rc = mdb_env_set_mapsize(env, size);
	pthread_rwlock_unlock(&map_lock);
	return rc;
}

int store_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return STORE_EFAIL;
}

static const char *describe(int rc)
{
	if (rc == STORE_EFAIL)
		return errbuf;
	if (rc == ENOSPC || rc == EDQUOT) {
		snprintf(errbuf, sizeof(errbuf),
			 "store: disk full in %s (%s)", data_dir, strerror(rc));
		return errbuf;
	}
	snprintf(errbuf, sizeof(errbuf), "store: %s", mdb_strerror(rc));
	return errbuf;
}

static int mkdir_p(const char *path, const char **error_r)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		snprintf(errbuf, sizeof(errbuf),
			 "cannot create %s: %s - does the server's user own its parent?",
			 path, strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	return 0;
}

int store_open(const char *dir, const char **error_r)
{
	char path[4096];
	MDB_txn *txn;
	int rc, dead;

	pthread_once(&map_lock_once, map_lock_init);
	if (env != NULL)
		return 0;
	if (mkdir_p(dir, error_r) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bodies", dir);
	if (mkdir_p(path, error_r) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/tmp", dir);
	if (mkdir_p(path, error_r) < 0)
		return -1;

	snprintf(path, sizeof(path), "%s/store.mdb", dir);
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, DB_COUNT + 4)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env, STORE_MAX_READERS)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, initial_map_size)) != 0)
		goto fail;
	rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOTLS, 0640);
	if (rc != 0)
		goto fail;
	/* readers left behind by killed processes would pin old pages */
	mdb_reader_check(env, &dead);
	if (dead > 0)
		log_msg(LOG_NOTICE, "STORE", "cleared %d stale reader slots", dead);

	/* every database is opened with MDB_CREATE: a store made by an older
	 * version gains the newer ones (acl, acl_identifiers, queue,
	 * queue_due) here, empty, which is what they are meant to be in it.
	 * No schema version is needed: records carry their own (record.h). */
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto fail;
	for (int i = 0; i < DB_COUNT; i++) {
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &dbis[i])) != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	data_dir = xstrdup(dir);
	return 0;
fail:
	snprintf(errbuf, sizeof(errbuf), "cannot open store %s: %s%s", path,
		 mdb_strerror(rc),
		 rc == EACCES ? " - is the server's user its owner?" : "");
	*error_r = errbuf;
	if (env != NULL)
		mdb_env_close(env);
	env = NULL;
	return -1;
}

void store_set_initial_map_size(size_t size)
{
	initial_map_size = size ? size : STORE_MAP_INITIAL;
}

void store_close(void)
{
	if (env == NULL)
		return;
	mdb_env_close(env);
	env = NULL;
	secret_forget_key();	/* of this data_dir */
	free(data_dir);
	data_dir = NULL;
}

bool store_is_open(void)
{
	return env != NULL;
}

const char *store_data_dir(void)
{
	return data_dir;
}

MDB_dbi store_dbi(enum store_db db)
{
	return dbis[db];
}

int store_walk_prefix(MDB_txn *txn, MDB_dbi dbi, const void *prefix,
		      size_t plen, store_walk_fn *fn, void *ctx)
{
	MDB_val key = { plen, (void *)prefix }, val;
	MDB_cursor *cur;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	/* LMDB refuses an empty key: an empty prefix is the whole database */
	for (rc = mdb_cursor_get(cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);
	     rc == 0 && key.mv_size >= plen && memcmp(key.mv_data, prefix, plen) == 0;
	     /* after mdb_cursor_del, LMDB's MDB_NEXT yields the record that
	      * followed the deleted one */
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		if ((rc = fn(txn, cur, &key, &val, ctx)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_walk_drop(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		    const MDB_val *val, void *ctx)
{
	(void)txn;
	(void)key;
	(void)val;
	(void)ctx;
	return mdb_cursor_del(cur, 0);
}

/* `seen`: the map size the failed transaction ran with.  Two threads can
 * run out at once; the second finds the map grown already. */
static int grow_map(size_t seen)
{
	MDB_envinfo info;
	int rc = 0;

	pthread_rwlock_wrlock(&map_lock);
	mdb_env_info(env, &info);
	if (info.me_mapsize > seen) {
		/* grown meanwhile */
	} else if (info.me_mapsize >= STORE_MAP_MAX) {
		rc = MDB_MAP_FULL;
	} else {
		log_msg(LOG_NOTICE, "STORE", "growing the store map from %zu to %zu KiB",
			info.me_mapsize / 1024, info.me_mapsize * 2 / 1024);
		rc = mdb_env_set_mapsize(env, info.me_mapsize * 2);
	}
	pthread_rwlock_unlock(&map_lock);
	return rc;
}

static int run_txn(store_txn_fn *fn, void *ctx, unsigned int flags,
		   const char **error_r)
{
	int rc = 0;

	if (env == NULL) {
		*error_r = "store is not open";
		return -1;
	}
	for (int attempt = 0; attempt < STORE_TXN_RETRIES; attempt++) {
		MDB_envinfo info;
		MDB_txn *txn;

		pthread_rwlock_rdlock(&map_lock);
		mdb_env_info(env, &info);
		rc = mdb_txn_begin(env, NULL, flags, &txn);
		if (rc == 0) {
			rc = fn(txn, ctx);
			if (rc != 0 || (flags & MDB_RDONLY))
				mdb_txn_abort(txn);
			else
				rc = mdb_txn_commit(txn);
		}
		pthread_rwlock_unlock(&map_lock);
		if (rc == 0)
			return 0;
		if (rc == MDB_MAP_RESIZED) {
			/* another process grew the map: adopt its size */
			set_map_size(0);
			continue;
		}
		if (rc != MDB_MAP_FULL || grow_map(info.me_mapsize) != 0)
			break;
	}
	*error_r = describe(rc);
	return -1;
}

int store_write(store_txn_fn *fn, void *ctx, bool lazy, const char **error_r)
{
	/* lazy: data pages are synced, the meta page is not.  LMDB keeps its
	 * integrity this way (a power cut may undo this commit), whereas
	 * MDB_NOSYNC could leave a meta page pointing at unwritten pages */
	return run_txn(fn, ctx, lazy ? MDB_NOMETASYNC : 0, error_r);
}

int store_read(store_txn_fn *fn, void *ctx, const char **error_r)
{
	return run_txn(fn, ctx, MDB_RDONLY, error_r);
}

struct count_ctx {
	const enum store_db *dbs;
	uint64_t *counts;
	size_t n;
};

static int count_txn(MDB_txn *txn, void *vctx)
{
	struct count_ctx *c = vctx;

	for (size_t i = 0; i < c->n; i++) {
		MDB_stat st;
		int rc = mdb_stat(txn, dbis[c->dbs[i]], &st);

		if (rc != 0)
			return rc;
		c->counts[i] = st.ms_entries;
	}
	return 0;
}

int store_count(const enum store_db *dbs, uint64_t *counts, size_t n,
		const char **error_r)
{
	struct count_ctx c = { dbs, counts, n };

	return store_read(count_txn, &c, error_r);
}

static int meta_counter(MDB_txn *txn, const char *name, uint64_t floor,
			uint64_t *value_r)
{
	MDB_val key = { strlen(name), (void *)name }, val;
	uint64_t v = 0;
	int rc;

	rc = mdb_get(txn, dbis[DB_META], &key, &val);
	if (rc == 0 && val.mv_size == sizeof(v))
		memcpy(&v, val.mv_data, sizeof(v));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	v = v + 1 > floor ? v + 1 : floor;
	val.mv_size = sizeof(v);
	val.mv_data = &v;
	if ((rc = mdb_put(txn, dbis[DB_META], &key, &val, 0)) != 0)
		return rc;
	*value_r = v;
	return 0;
}

int store_next_id(MDB_txn *txn, uint64_t *id_r)
{
	return meta_counter(txn, "next_id", 1, id_r);
}

int store_next_uidvalidity(MDB_txn *txn, uint32_t *uv_r)
{
	uint64_t v;
	int rc;

	/* time-based like IMAP's, but strictly increasing */
	rc = meta_counter(txn, "last_uidvalidity", (uint64_t)time(NULL), &v);
	*uv_r = (uint32_t)v;
	return rc;
}

void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void store_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

uint32_t store_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
