/* sendfile_bound.c - the ceiling for RETR of large messages: how fast one
 * process can sendfile() a file over a loopback TCP connection to a reader
 * that only discards.  Prints "mb_s=N" (10^6 octets per second).
 *
 *   gcc -O2 -o sendfile_bound tests/bench/sendfile_bound.c
 *   ./sendfile_bound FILE SECONDS
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd, cfd, sfd, fd;
	struct stat st;
	double secs, t0;
	long long sent = 0;
	pid_t pid;

	if (argc != 3 || (fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) < 0 ||
	    (secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: sendfile_bound FILE SECONDS\n");
		return 2;
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0) {
		perror("listen");
		return 1;
	}
	pid = fork();
	if (pid == 0) {		/* the reader: discard everything */
		static char buf[1 << 16];

		cfd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			_exit(1);
		while (read(cfd, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	sfd = accept(lfd, NULL, NULL);
	t0 = now();
	while (now() - t0 < secs) {
		off_t off = 0;

		while (off < st.st_size) {
			ssize_t n = sendfile(sfd, fd, &off, (size_t)(st.st_size - off));

			if (n <= 0) {
				perror("sendfile");
				return 1;
			}
			sent += n;
		}
	}
	t0 = now() - t0;
	close(sfd);
	waitpid(pid, NULL, 0);
	printf("mb_s=%.1f\n", (double)sent / 1e6 / t0);
	return 0;
}
