/*
 * Secure dot product of real numbers with fixshare's C API.
 *
 * Three processes on 127.0.0.1, talking TCP through plain POSIX sockets:
 *   - the dealer (offline phase: correlated randomness),
 *   - party 0, which owns the feature vector x,
 *   - party 1, which owns the weight vector w.
 * Each party secret-shares its own vector with the other; together they compute shares of
 * x . w and open the result. Neither party sees the other's vector.
 *
 * Run: ./dot_product        (forks the dealer and party 1; the parent is party 0)
 * Exit status 0 when both parties' results match the plaintext dot product.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixshare.h"
#include "socket_transport.h"

#define N 6
static const double X[N] = {1.5, -2.25, 3.0, 0.5, -1.0, 7.125}; /* party 0's private features */
static const double W[N] = {0.2, 0.4, -1.5, 2.0, 3.25, 0.01};   /* party 1's private weights */

static void die(const char *who, const char *what) {
    fprintf(stderr, "%s: %s failed\n", who, what);
    exit(2);
}

/* Exits with the status name and fixshare's message if status is not FXS_STATUS_OK. */
static void check(const char *who, fxs_status status) {
    if (status != FXS_STATUS_OK) {
        fprintf(stderr, "%s: %s: %s\n", who, fxs_status_name(status), fxs_last_error_message());
        exit(1);
    }
}

static int listen_local(unsigned short *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("main", "socket");
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0; /* any free port */
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) die("main", "bind");
    if (listen(fd, 4) != 0) die("main", "listen");
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) die("main", "getsockname");
    *port = ntohs(a.sin_port);
    return fd;
}

static void no_delay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int connect_local(unsigned short port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("party", "socket");
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("party", "connect");
    no_delay(fd);
    return fd;
}

static void random_seed(uint8_t seed[32]) {
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(seed, 1, 32, f) != 32) die("main", "reading /dev/urandom");
    fclose(f);
}

/* The dealer: accepts both parties (each announces its role in one byte) and serves them. */
static int run_dealer(int listener) {
    int fds[2] = {-1, -1};
    uint8_t seed[32];
    fxs_transport t0, t1;
    fxs_stats s0, s1;
    for (int i = 0; i < 2; i++) {
        uint8_t role;
        int fd = accept(listener, NULL, NULL);
        if (fd < 0 || socket_recv(&fd, &role, 1) != FXS_IO_OK || role > 1) die("dealer", "accept");
        no_delay(fd);
        fds[role] = fd;
    }
    if (fds[0] < 0 || fds[1] < 0) die("dealer", "one connection per party");
    random_seed(seed);
    t0 = socket_transport(&fds[0]);
    t1 = socket_transport(&fds[1]);
    check("dealer", fxs_dealer_serve(seed, &t0, &t1, &s0, &s1));
    printf("dealer: sent %llu bytes to party 0, %llu bytes to party 1\n",
           (unsigned long long)s0.bytes_sent, (unsigned long long)s1.bytes_sent);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

/* A party: connects to the dealer and to its peer, shares its vector, computes x . w. */
static int run_party(uint32_t role, unsigned short dealer_port, int peer_listener,
                     unsigned short peer_port) {
    char who[16];
    int dealer_fd, peer_fd;
    uint8_t role_byte = (uint8_t)role;
    fxs_party_config cfg;
    fxs_party *party = NULL;
    fxs_shares *x = NULL, *w = NULL, *dot = NULL;
    fxs_stats traffic;
    double result, plain = 0.0;

    snprintf(who, sizeof who, "party %u", (unsigned)role);
    dealer_fd = connect_local(dealer_port);
    if (socket_send(&dealer_fd, &role_byte, 1) != FXS_IO_OK) die(who, "hello to the dealer");
    if (role == FXS_ROLE_P0) {
        peer_fd = accept(peer_listener, NULL, NULL);
        if (peer_fd < 0) die(who, "accept");
        no_delay(peer_fd);
    } else {
        peer_fd = connect_local(peer_port);
    }

    check(who, fxs_party_config_init(&cfg));
    cfg.role = role;
    cfg.frac_bits = 20;
    random_seed(cfg.seed);
    cfg.peer = socket_transport(&peer_fd);
    cfg.dealer = socket_transport(&dealer_fd);
    check(who, fxs_party_new(&cfg, &party));

    /* Party 0 shares x, party 1 shares w; both calls happen in the same order on both sides. */
    if (role == FXS_ROLE_P0) {
        check(who, fxs_party_share_input(party, X, N, 1, &x));
        check(who, fxs_party_receive_input(party, N, 1, &w));
    } else {
        check(who, fxs_party_receive_input(party, N, 1, &x));
        check(who, fxs_party_share_input(party, W, N, 1, &w));
    }
    check(who, fxs_party_dot(party, x, w, &dot));
    check(who, fxs_party_reveal(party, dot, &result, 1));
    check(who, fxs_party_stats(party, &traffic, NULL));

    /* The plaintext reference (this demo program happens to know both vectors). */
    for (int i = 0; i < N; i++) plain += X[i] * W[i];
    printf("%s: secure dot product = %.6f, plaintext = %.6f (%llu bytes to the peer, %llu rounds)\n",
           who, result, plain, (unsigned long long)traffic.bytes_sent,
           (unsigned long long)traffic.rounds);

    fxs_shares_free(dot);
    fxs_shares_free(w);
    fxs_shares_free(x);
    fxs_party_free(party);
    close(peer_fd);
    close(dealer_fd); /* the dealer stops when both parties have closed */
    return fabs(result - plain) <= 1e-3 ? 0 : 1;
}

static int wait_ok(pid_t pid, const char *who) {
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s failed\n", who);
        return 0;
    }
    return 1;
}

int main(void) {
    unsigned short dealer_port, peer_port;
    int dealer_l = listen_local(&dealer_port);
    int peer_l = listen_local(&peer_port);
    pid_t dealer, p1;
    int rc, ok;

    fflush(stdout);
    dealer = fork();
    if (dealer < 0) die("main", "fork");
    if (dealer == 0) {
        close(peer_l);
        rc = run_dealer(dealer_l);
        close(dealer_l);
        exit(rc);
    }
    p1 = fork();
    if (p1 < 0) die("main", "fork");
    if (p1 == 0) {
        close(dealer_l);
        close(peer_l);
        exit(run_party(FXS_ROLE_P1, dealer_port, -1, peer_port));
    }
    close(dealer_l);
    rc = run_party(FXS_ROLE_P0, dealer_port, peer_l, peer_port);
    close(peer_l);
    ok = wait_ok(p1, "party 1");
    ok = wait_ok(dealer, "dealer") && ok;
    if (rc != 0 || !ok) return 1;
    printf("ok\n");
    return 0;
}
