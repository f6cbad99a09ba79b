/* privileges.c - dropping root. */
#include "build-config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/privileges.h"

int privileges_drop(const char *user, const char *data_dir, const char **error_r)
{
	static char err[600];
	struct passwd *pw;
	struct stat st;

	if (user[0] == '\0' || geteuid() != 0)
		return 0;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, sizeof(err), "user = %s: no such user%s%s", user,
			 errno ? ": " : " - create it (useradd --system postern)",
			 errno ? strerror(errno) : "");
		*error_r = err;
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, sizeof(err), "user = %s: that is root; name an unprivileged user", user);
		*error_r = err;
		return -1;
	}
	/* a new data_dir is made for the user; an existing one is the
	 * admin's to own (the store reports a clear error otherwise) */
	if (stat(data_dir, &st) < 0 && errno == ENOENT &&
	    (mkdir(data_dir, 0750) < 0 || chown(data_dir, pw->pw_uid, pw->pw_gid) < 0)) {
		snprintf(err, sizeof(err), "cannot create data_dir %s for %s: %s", data_dir,
			 user, strerror(errno));
		*error_r = err;
		return -1;
	}
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, sizeof(err), "cannot become user %s: %s", user, strerror(errno));
		*error_r = err;
		return -1;
	}
	if (setuid(0) == 0) {	/* must be gone for good */
		snprintf(err, sizeof(err), "dropping root for %s did not hold", user);
		*error_r = err;
		return -1;
	}
	return 0;
}
