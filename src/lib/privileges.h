/* privileges.h - running as an unprivileged user (setting `user`).
 * posternd drops after binding its listeners and reading its certificates;
 * posternctl drops before touching the store, so that every file in
 * data_dir belongs to the one user the server runs as. */
#ifndef PN_PRIVILEGES_H
#define PN_PRIVILEGES_H

/* When running as root and `user` is set: create data_dir for that user if
 * it is missing, then become the user (groups, gid, uid; irrevocably).
 * Not root, or `user` empty: nothing to do. */
int privileges_drop(const char *user, const char *data_dir, const char **error_r);

#endif
