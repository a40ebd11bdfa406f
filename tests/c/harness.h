/*
 * The harness the C tests share (test_ffi.c, test_three.c, test_four.c, test_weights.c,
 * test_hosts.c): pass/fail counters and check macros, socket pairs and TCP on 127.0.0.1 for
 * parties as threads or processes, child processes, files. Header only: every function is
 * static inline, so a test compiles as before (C11 or C++17) and unused pieces cost nothing.
 * Define _POSIX_C_SOURCE 200809L before any include; link with -pthread.
 */
#ifndef FIXSHARE_TESTS_C_HARNESS_H
#define FIXSHARE_TESTS_C_HARNESS_H

#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#error "define _POSIX_C_SOURCE 200809L before any include"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixshare.h"
#include "socket_transport.h"

/* socket_transport.h's functions are plain static: referenced here so that a test need not use
 * every one of them to compile without -Wunused-function. */
static inline void harness_uses_socket_transport(void) { (void)socket_transport; }

/* ----- counters and checks ----- */

/* Checks passed and failed so far (in this process: a child reports through its exit status). */
static int passed, failed;
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;

/* Counts one check (from any thread); a failure is printed with fixshare's last error message. */
static inline void count(int ok, const char *file, int line, const char *what) {
    pthread_mutex_lock(&counts_lock);
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", file, line, what,
                fxs_last_error_message());
    }
    pthread_mutex_unlock(&counts_lock);
}

/* cond holds; a call returns `expected` (or FXS_STATUS_OK); the last error message contains
 * needle. */
#define CHECK(cond) count((cond) != 0, __FILE__, __LINE__, #cond)
#define CHECK_STATUS(call, expected) \
    count((call) == (expected), __FILE__, __LINE__, #call " == " #expected)
#define CHECK_OK(call) CHECK_STATUS(call, FXS_STATUS_OK)
#define CHECK_MSG(needle) \
    count(strstr(fxs_last_error_message(), needle) != NULL, __FILE__, __LINE__, \
          "message contains " needle)

/* Prints "N passed, M failed"; the exit code of main (1 if anything failed). */
static inline int report(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* ----- shares against a plaintext reference ----- */

#define EXPECT_MAX 128 /* the most values expect_near reveals */

/* Reveals x (n values) and compares each with want[i] within tol[i] (tol NULL: within tol0);
 * prints the differences. Its checks report harness.h's lines; `what` says which call failed. */
static inline void expect_near(fxs_party *party, const fxs_shares *x, const double *want, size_t n,
                               const double *tol, double tol0, const char *what) {
    double got[EXPECT_MAX];
    size_t rows = 0, cols = 0;
    int ok = 1;
    CHECK_OK(fxs_shares_shape(x, &rows, &cols));
    CHECK(rows * cols == n && n <= EXPECT_MAX);
    CHECK_OK(fxs_party_reveal(party, x, got, EXPECT_MAX));
    if (n > EXPECT_MAX) n = EXPECT_MAX;
    for (size_t i = 0; i < n; i++) ok = ok && fabs(got[i] - want[i]) <= (tol ? tol[i] : tol0);
    count(ok, __FILE__, __LINE__, what);
    if (!ok)
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  %s[%zu]: got %.17g, want %.17g, tolerance %.3g\n", what, i, got[i],
                    want[i], tol ? tol[i] : tol0);
}

/* expect_near with one tolerance for every value. */
static inline void expect_within(fxs_party *party, const fxs_shares *x, const double *want,
                                 size_t n, double tol, const char *what) {
    expect_near(party, x, want, n, NULL, tol, what);
}

/* Party `role`'s share of a matrix party `owner` holds (`values`, ignored by the other). */
static inline fxs_shares *input(fxs_party *party, uint32_t role, uint32_t owner,
                                const double *values, size_t rows, size_t cols) {
    fxs_shares *x = NULL;
    if (role == owner)
        CHECK_OK(fxs_party_share_input(party, values, rows, cols, &x));
    else
        CHECK_OK(fxs_party_receive_input(party, rows, cols, &x));
    return x;
}

/* ----- connections: socket pairs (threads) and TCP on 127.0.0.1 (processes) ----- */

/* A connected pair of UNIX stream sockets; exits 2 if there is none. */
static inline void make_pair(int fds[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(2);
    }
}

/* No byte arrived at fd (non-blocking check). */
static inline int silent(int fd) {
    uint8_t b;
    return recv(fd, &b, 1, MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A transport that counts what it sends and cuts its connection once it has sent `budget`
 * bytes (budget < 0: never); its send then returns FXS_IO_CLOSED. */
typedef struct cut_wire {
    int fd;
    long budget;
    long sent;
} cut_wire;

static inline int cut_send(void *user_data, const uint8_t *buf, size_t len) {
    cut_wire *w = (cut_wire *)user_data;
    if (w->budget >= 0 && (long)len > w->budget) {
        if (w->budget > 0) (void)socket_send(&w->fd, buf, (size_t)w->budget);
        shutdown(w->fd, SHUT_RDWR);
        w->budget = 0;
        return FXS_IO_CLOSED;
    }
    if (w->budget >= 0) w->budget -= (long)len;
    w->sent += (long)len;
    return socket_send(&w->fd, buf, len);
}

static inline int cut_recv(void *user_data, uint8_t *buf, size_t len) {
    cut_wire *w = (cut_wire *)user_data;
    return socket_recv(&w->fd, buf, len);
}

/* The address 127.0.0.1:port (port 0: one the system picks, for bind). */
static inline struct sockaddr_in loopback(unsigned short port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

/* A socket listening on 127.0.0.1 at a port the system picks (written to *port); exits 2 if
 * it cannot. */
static inline int tcp_listen(unsigned short *port) {
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("listen");
        exit(2);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Sends small frames at once (no Nagle delay: the protocols wait for each round's reply). */
static inline void no_delay(int fd) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) perror("TCP_NODELAY");
}

/* Connects to 127.0.0.1:port and says who is calling (one byte), then sets no_delay if
 * `nodelay`; exits 2 if it cannot. */
static inline int tcp_connect_hello(unsigned short port, uint8_t hello, int nodelay) {
    struct sockaddr_in a = loopback(port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        socket_send(&fd, &hello, 1) != FXS_IO_OK) {
        perror("connect");
        exit(2);
    }
    if (nodelay) no_delay(fd);
    return fd;
}

/* Accepts one connection, reads the caller's byte and sets no_delay; exits 2 if it cannot. */
static inline int tcp_accept_hello(int listener, uint8_t *hello) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0 || socket_recv(&fd, hello, 1) != FXS_IO_OK) {
        perror("accept");
        exit(2);
    }
    no_delay(fd);
    return fd;
}

/* ----- time and child processes ----- */

/* Seconds on the monotonic clock. */
static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* fork() after flushing stdio (nothing printed twice); exits 2 if it fails. */
static inline pid_t fork_or_die(void) {
    pid_t p;
    fflush(stdout);
    fflush(stderr);
    p = fork();
    if (p < 0) {
        perror("fork");
        exit(2);
    }
    return p;
}

/* Starts the program argv[0] (a path) with standard output and error to the files out and err
 * (NULL: inherited). */
static inline pid_t spawn(char *const argv[], const char *out, const char *err) {
    pid_t pid = fork_or_die();
    if (pid == 0) {
        if (out) {
            int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0 || dup2(fd, 1) < 0) _exit(126);
            close(fd);
        }
        if (err) {
            int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0 || dup2(fd, 2) < 0) _exit(126);
            close(fd);
        }
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    return pid;
}

/* Waits up to `seconds` for pid; kills it (SIGKILL) after that. Returns its wait status, -1 if
 * it had to be killed (a hang), -2 if it is not a child. */
static inline int wait_for(pid_t pid, double seconds) {
    double until = now() + seconds;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0) return -2;
        if (now() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        sleep_ms(20);
    }
}

/* A wait status of wait_for: the process exited with `code`. */
static inline int exited_with(int st, int code) {
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == code;
}

/* ----- files ----- */

/* The whole file, NUL-terminated (the NUL not counted in *len); NULL if it cannot be read.
 * Free it. */
static inline uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = (uint8_t *)malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = 0;
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* 32 bytes from /dev/urandom; exits 2 if it cannot be read. */
static inline void random_seed(uint8_t seed[32]) {
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(seed, 1, 32, f) != 32) {
        perror("/dev/urandom");
        exit(2);
    }
    fclose(f);
}

/* A new directory $TMPDIR/NAME-XXXXXX (/tmp without TMPDIR), its path written to dir; exits 2
 * if it cannot be made. */
static inline void make_temp_dir(char *dir, size_t cap, const char *name) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/%s-XXXXXX", tmp ? tmp : "/tmp", name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* rm -rf dir; says so if that fails. */
static inline void remove_dir(const char *dir) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

#endif
