/*
 * Secure dot product and ReLU of real numbers with fixshare's C API.
 *
 * Processes on 127.0.0.1, talking TCP through plain POSIX sockets:
 *   - the dealer (offline phase: correlated randomness),
 *   - party 0, which owns the feature vector x,
 *   - party 1, which owns the weight vector w.
 * Each party secret-shares its own vector with the other; together they compute shares of
 * x . w and of ReLU(x * w) (elementwise products, then ReLU by a garbled circuit) and open the
 * results. Neither party sees the other's vector.
 *
 * With --ot there is no dealer: the two parties generate the correlated randomness
 * themselves by oblivious transfer, over the same TCP connection as everything else (one
 * socket between the two processes; the offline phase has a sub-channel of its own on it).
 *
 * Run: ./dot_product [--ot]   (forks the dealer and party 1; the parent is party 0)
 * Exit status 0 when both parties' results match the plaintext reference.
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

/* The listening sockets and ports, made before forking. */
typedef struct ports {
    int offline; /* FXS_OFFLINE_DEALER or FXS_OFFLINE_OT */
    int dealer_l, peer_l;
    unsigned short dealer, peer;
} ports;

/* Party 0 accepts on `listener`, party 1 connects to `port`. */
static int peer_connection(uint32_t role, int listener, unsigned short port, const char *who) {
    int fd;
    if (role == FXS_ROLE_P1) return connect_local(port);
    fd = accept(listener, NULL, NULL);
    if (fd < 0) die(who, "accept");
    no_delay(fd);
    return fd;
}

/* A party: connects to its peer (and to the dealer, if any), shares its vector, computes x . w. */
static int run_party(uint32_t role, const ports *p) {
    char who[16];
    int dealer_fd = -1, peer_fd;
    uint8_t role_byte = (uint8_t)role;
    fxs_party_config cfg;
    fxs_party *party = NULL;
    fxs_shares *x = NULL, *w = NULL, *dot = NULL, *prod = NULL, *relu = NULL;
    fxs_stats traffic, offline;
    double result, plain = 0.0, secure_relu[N], plain_relu[N], worst = 0.0;

    snprintf(who, sizeof who, "party %u", (unsigned)role);
    peer_fd = peer_connection(role, p->peer_l, p->peer, who);
    check(who, fxs_party_config_init(&cfg));
    cfg.role = role;
    cfg.frac_bits = 20;
    random_seed(cfg.seed);
    cfg.peer = socket_transport(&peer_fd);
    if (p->offline == FXS_OFFLINE_OT) {
        /* No dealer: the oblivious transfers run over the peer connection too. */
        cfg.offline = FXS_OFFLINE_OT;
    } else {
        dealer_fd = connect_local(p->dealer);
        if (socket_send(&dealer_fd, &role_byte, 1) != FXS_IO_OK) die(who, "hello to the dealer");
        cfg.dealer = socket_transport(&dealer_fd);
    }
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
    check(who, fxs_party_mul(party, x, w, &prod));   /* elementwise x_i * w_i */
    check(who, fxs_party_relu(party, prod, &relu));  /* max(x_i * w_i, 0) */
    check(who, fxs_party_reveal(party, relu, secure_relu, N));
    check(who, fxs_party_stats(party, &traffic, &offline)); /* online, offline phase */

    /* The plaintext reference (this demo program happens to know both vectors). */
    for (int i = 0; i < N; i++) plain += X[i] * W[i];
    printf("%s: secure dot product = %.6f, plaintext = %.6f (online: %llu bytes to the peer, "
           "%llu rounds; offline phase: %s, %llu bytes sent, %llu received)\n",
           who, result, plain, (unsigned long long)traffic.bytes_sent,
           (unsigned long long)traffic.rounds, p->offline == FXS_OFFLINE_OT ? "OT" : "dealer",
           (unsigned long long)offline.bytes_sent, (unsigned long long)offline.bytes_received);
    printf("%s: secure ReLU(x*w) = [", who);
    for (int i = 0; i < N; i++) printf(i ? " %.3f" : "%.3f", secure_relu[i]);
    printf("], plaintext = [");
    for (int i = 0; i < N; i++) {
        plain_relu[i] = X[i] * W[i] > 0 ? X[i] * W[i] : 0.0;
        printf(i ? " %.3f" : "%.3f", plain_relu[i]);
        if (fabs(secure_relu[i] - plain_relu[i]) > worst) worst = fabs(secure_relu[i] - plain_relu[i]);
    }
    printf("]\n");

    fxs_shares_free(relu);
    fxs_shares_free(prod);
    fxs_shares_free(dot);
    fxs_shares_free(w);
    fxs_shares_free(x);
    fxs_party_free(party);
    close(peer_fd);
    if (dealer_fd >= 0) close(dealer_fd); /* the dealer stops when both parties have closed */
    return fabs(result - plain) <= 1e-3 && worst <= 1e-3 ? 0 : 1;
}

static int wait_ok(pid_t pid, const char *who) {
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s failed\n", who);
        return 0;
    }
    return 1;
}

static void close_listeners(const ports *p) {
    if (p->dealer_l >= 0) close(p->dealer_l);
    if (p->peer_l >= 0) close(p->peer_l);
}

int main(int argc, char **argv) {
    ports p = {FXS_OFFLINE_DEALER, -1, -1, 0, 0};
    pid_t dealer = -1, p1;
    int rc, ok = 1;

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--ot") != 0)) {
        fprintf(stderr, "usage: %s [--ot]\n", argv[0]);
        return 2;
    }
    if (argc == 2) p.offline = FXS_OFFLINE_OT;
    p.peer_l = listen_local(&p.peer);
    if (p.offline == FXS_OFFLINE_DEALER) p.dealer_l = listen_local(&p.dealer);

    fflush(stdout);
    if (p.offline == FXS_OFFLINE_DEALER) {
        dealer = fork();
        if (dealer < 0) die("main", "fork");
        if (dealer == 0) {
            int l = p.dealer_l;
            p.dealer_l = -1;
            close_listeners(&p);
            rc = run_dealer(l);
            close(l);
            exit(rc);
        }
    }
    p1 = fork();
    if (p1 < 0) die("main", "fork");
    if (p1 == 0) {
        close_listeners(&p);
        exit(run_party(FXS_ROLE_P1, &p));
    }
    rc = run_party(FXS_ROLE_P0, &p);
    close_listeners(&p);
    ok = wait_ok(p1, "party 1");
    if (dealer > 0) ok = wait_ok(dealer, "dealer") && ok;
    if (rc != 0 || !ok) return 1;
    printf("ok\n");
    return 0;
}
