/* auth_penalty.h - failed logins cost time per client address: the answer
 * to the Nth failure from an address within auth.failure_window waits
 * base * 2^(N-1), at most 15 s (Dovecot's 2, 4, 8, 15 s with the default
 * base of 2 s); a successful login from the address clears it.  Bounded
 * memory: at most PENALTY_MAX addresses are remembered. */
#ifndef PN_AUTH_PENALTY_H
#define PN_AUTH_PENALTY_H

/* Record a failure; returns the delay in milliseconds to apply. */
unsigned int auth_penalty_fail(const char *ip, unsigned int base_ms,
			       unsigned int window_s, double now);
void auth_penalty_clear(const char *ip);
void auth_penalty_free_all(void);

#endif
