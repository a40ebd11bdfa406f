/*
 * Tests of the C API of weight sharing (Phong-Phuong, issue 16): a C program as one trainer of
 * an FNT ring and of an SNT round, together with Rust trainers (`fixshare-snt train` processes)
 * and the Rust SNT server (`fixshare-snt serve`), over TCP on 127.0.0.1. The final weights of
 * every trainer, C and Rust, are checked bit for bit against centralized training on the union
 * of the data in the same order, computed here with the same C API (fresh weights from trainer
 * 0's seed, then every trainer's local turn in order). Both optimizers, several activations,
 * dropout; the C trainer first (it makes the initial weights) or in the middle of the ring.
 *
 * Then the error paths: NULL pointers, short buffers (the size query), a wrong key, truncated
 * or modified sealed weights, another round, model, number of trainers or sealing trainer,
 * another network's weights, bad training data; a refused call leaves the weights unchanged.
 * Ring passes of a wrong length between two threads.
 *
 * Usage: test_weights            (needs FIXSHARE_SNT_BIN: the path of the fixshare-snt binary)
 * Prints "N passed, M failed" and exits non-zero if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixshare.h"
#include "harness.h"
#include "socket_transport.h"

/* ----- the data: three noisy classes in five dimensions ----- */

#define FEATURES 5
#define CLASSES 3
#define ROWS 150

static double X[ROWS * FEATURES], Y[ROWS];

static void make_data(void) {
    uint64_t s = 0x243f6a8885a308d3u;
    for (int r = 0; r < ROWS; r++) {
        int c = (r * 7 + r / 5) % CLASSES;
        for (int f = 0; f < FEATURES; f++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            double noise = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            X[r * FEATURES + f] = (f % CLASSES == c ? 1.0 : -0.5) + noise;
        }
        Y[r] = c;
    }
}

/* Trainer i's rows of L: consecutive ranges whose sizes differ by at most one (the first
   ROWS % L one longer), as fixshare-snt partitions the file. */
static void part(int i, int l, int *start, int *len) {
    int base = ROWS / l, extra = ROWS % l;
    *start = i * base + (i < extra ? i : extra);
    *len = base + (i < extra);
}

/* ----- files and processes ----- */

static char dir[256];

static void path_of(char *out, size_t cap, const char *name, int i) {
    if (i >= 0)
        snprintf(out, cap, "%s/%s%d", dir, name, i);
    else
        snprintf(out, cap, "%s/%s", dir, name);
}

static void write_hex(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
    fprintf(f, "\n");
    fclose(f);
}

static void write_csv(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    for (int j = 0; j < FEATURES; j++) fprintf(f, "f%d,", j);
    fprintf(f, "class\n");
    for (int r = 0; r < ROWS; r++) {
        for (int j = 0; j < FEATURES; j++) fprintf(f, "%.17g,", X[r * FEATURES + j]);
        fprintf(f, "%.17g\n", Y[r]);
    }
    fclose(f);
}

/* Waits up to 60 s for a port file; 0 if none. */
static unsigned short wait_port(const char *path) {
    for (int i = 0; i < 1200; i++) {
        size_t n = 0;
        uint8_t *b = read_file(path, &n); /* NUL-terminated */
        if (b) {
            long p = strtol((char *)b, NULL, 10);
            free(b);
            if (p > 0 && p < 65536) return (unsigned short)p;
        }
        sleep_ms(50);
    }
    return 0;
}

/* Connects to 127.0.0.1:port, retrying for up to 30 s while nobody listens. */
static int tcp_connect(unsigned short port) {
    for (int i = 0; i < 600; i++) {
        struct sockaddr_in a = loopback(port);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
        if (fd >= 0) close(fd);
        sleep_ms(50);
    }
    return -1;
}

/* ----- one configuration of the ring or the round ----- */

typedef struct {
    const char *name;
    const char *system; /* "fnt" or "snt" */
    int trainers;       /* L */
    int c_index;        /* the C trainer's position */
    int epochs;         /* central epochs */
    size_t sizes[3];
    uint32_t activation;
    const char *activation_name;
    uint32_t optimizer;
    double lr;
    double dropout; /* one hidden layer; 0 for none */
    size_t batch, local_epochs;
} config;

static const char MODEL_TEXT[] = "c-abi trainer";

static void spec_of(const config *c, fxs_float_spec *s, double *dropout) {
    fxs_float_spec_init(s);
    s->sizes = c->sizes;
    s->n_sizes = 3;
    s->activation = c->activation;
    s->loss = FXS_LOSS_SOFTMAX_CROSS_ENTROPY;
    s->optimizer = c->optimizer;
    s->learning_rate = c->lr;
    s->batch = c->batch;
    s->local_epochs = c->local_epochs;
    if (c->dropout > 0) {
        *dropout = c->dropout;
        s->dropout = dropout;
        s->n_dropout = 1;
    }
}

static void seed_of(uint8_t seed[32], int trainer) {
    for (int j = 0; j < 32; j++) seed[j] = (uint8_t)(0x5a ^ (trainer * 37 + j * 11));
}

static const uint8_t KEY[32] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45,
                                0x67, 0x89, 0xab, 0xcd, 0xef, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a,
                                0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};

static fxs_weights_round round_of(int trainers, uint64_t version) {
    fxs_weights_round r;
    memset(&r, 0, sizeof r);
    memcpy(r.model_id, MODEL_TEXT, strlen(MODEL_TEXT));
    r.trainers = (uint32_t)trainers;
    r.version = version;
    return r;
}

/* Centralized training on the union of the data in the agreed order, with the same API. */
static fxs_float_model *centralized(const config *c) {
    fxs_float_spec spec;
    double dropout;
    uint8_t seed[32], nonce[32] = {0};
    fxs_float_model *m = NULL;
    spec_of(c, &spec, &dropout);
    seed_of(seed, 0);
    CHECK_OK(fxs_float_model_new(&spec, seed, nonce, &m));
    for (int e = 0; e < c->epochs; e++) {
        for (int t = 0; t < c->trainers; t++) {
            int start, len;
            part(t, c->trainers, &start, &len);
            seed_of(seed, t);
            CHECK_OK(fxs_float_model_train(m, X + start * FEATURES, (size_t)len, FEATURES,
                                           Y + start, seed, (uint64_t)e));
        }
    }
    return m;
}

/* The C trainer's turn at `step`: train on its rows in central epoch step / L, seal step + 1. */
static size_t take_turn(const config *c, fxs_float_model *m, uint64_t step, uint8_t *buf,
                        size_t cap) {
    uint8_t seed[32];
    int start, len;
    size_t written = 0;
    fxs_weights_round r = round_of(c->trainers, step + 1);
    part(c->c_index, c->trainers, &start, &len);
    seed_of(seed, c->c_index);
    CHECK_OK(fxs_float_model_train(m, X + start * FEATURES, (size_t)len, FEATURES, Y + start,
                                   seed, step / (uint64_t)c->trainers));
    CHECK_OK(fxs_float_model_seal(m, KEY, &r, (uint32_t)c->c_index, buf, cap, &written));
    CHECK(written == cap);
    return written;
}

/* The C trainer of an FNT ring: receives from its predecessor, sends to its successor, as the
   core's fnt::run does. */
static void c_fnt_trainer(const config *c, fxs_float_model *m, int listener,
                          unsigned short next_port, uint8_t *buf, size_t cap) {
    int l = c->trainers, i = c->c_index;
    int next_fd = tcp_connect(next_port), prev_fd;
    fxs_transport tn, tp;
    fxs_link *next = NULL, *prev = NULL;
    CHECK(next_fd >= 0);
    prev_fd = accept(listener, NULL, NULL);
    CHECK(prev_fd >= 0);
    if (next_fd < 0 || prev_fd < 0) return;
    tn = socket_transport(&next_fd);
    tp = socket_transport(&prev_fd);
    CHECK_OK(fxs_link_new(&tn, 0, &next));
    CHECK_OK(fxs_link_new(&tp, 0, &prev));
    for (int e = 0; e < c->epochs; e++) {
        uint64_t step = (uint64_t)e * (uint64_t)l + (uint64_t)i;
        if (step > 0) {
            fxs_weights_round r = round_of(l, step);
            CHECK_OK(fxs_weights_receive(prev, buf, cap));
            CHECK_OK(fxs_float_model_open(m, KEY, &r, buf, cap));
        }
        take_turn(c, m, step, buf, cap);
        CHECK_OK(fxs_weights_pass(next, buf, cap));
    }
    if (i != l - 1) {
        /* The final weights come round once more, up to trainer L - 2. */
        fxs_weights_round r = round_of(l, (uint64_t)c->epochs * (uint64_t)l);
        CHECK_OK(fxs_weights_receive(prev, buf, cap));
        CHECK_OK(fxs_float_model_open(m, KEY, &r, buf, cap));
        if (i + 1 < l - 1) CHECK_OK(fxs_weights_pass(next, buf, cap));
    }
    fxs_link_free(next);
    fxs_link_free(prev);
    close(next_fd);
    close(prev_fd);
}

/* The C trainer of an SNT round, as the core's snt::run does. */
static void c_snt_trainer(const config *c, fxs_float_model *m, unsigned short server_port,
                          uint8_t *buf, size_t cap) {
    int l = c->trainers, i = c->c_index;
    int fd = tcp_connect(server_port);
    fxs_transport t;
    fxs_link *link = NULL;
    CHECK(fd >= 0);
    if (fd < 0) return;
    t = socket_transport(&fd);
    CHECK_OK(fxs_link_new(&t, 0, &link));
    if (i == 0) {
        fxs_weights_round r0 = round_of(l, 0);
        size_t written = 0;
        CHECK_OK(fxs_float_model_seal(m, KEY, &r0, 0, buf, cap, &written));
        CHECK_OK(fxs_snt_upload(link, 0, buf, written));
    }
    for (int e = 0; e < c->epochs; e++) {
        uint64_t step = (uint64_t)e * (uint64_t)l + (uint64_t)i;
        if (step > 0) {
            fxs_weights_round r = round_of(l, step);
            CHECK_OK(fxs_snt_fetch(link, &r, (uint32_t)i, buf, cap));
            CHECK_OK(fxs_float_model_open(m, KEY, &r, buf, cap));
        }
        take_turn(c, m, step, buf, cap);
        CHECK_OK(fxs_snt_upload(link, (uint32_t)i, buf, cap));
    }
    {
        fxs_weights_round r = round_of(l, (uint64_t)c->epochs * (uint64_t)l);
        CHECK_OK(fxs_snt_fetch(link, &r, (uint32_t)i, buf, cap));
        CHECK_OK(fxs_float_model_open(m, KEY, &r, buf, cap));
    }
    fxs_link_free(link);
    close(fd);
}

/* Exported state (weights and optimizer state) of a model. */
static uint8_t *export_of(fxs_float_model *m, size_t *len) {
    uint8_t *b;
    CHECK_OK(fxs_float_model_export_len(m, len));
    b = malloc(*len);
    if (b) CHECK_OK(fxs_float_model_export(m, b, *len, len));
    return b;
}

static void run_with_rust_trainers(const char *bin, const config *c) {
    char csv[300], key_file[300], pf[300], args[20][300];
    char *argv[64];
    pid_t pids[8], server = -1;
    int l = c->trainers, listener = -1;
    unsigned short my_port = 0, server_port = 0;
    fxs_float_spec spec;
    double dropout;
    uint8_t seed[32], nonce[32];
    fxs_float_model *m = NULL, *reference;
    size_t cap = 0, ref_len = 0;
    uint8_t *buf, *ref;
    char model_arg[64], act_arg[64], lr_arg[64], drop_arg[64], batch_arg[64], local_arg[64],
        epochs_arg[64], trainers_arg[64];

    printf("%s: %s, %d trainers (the C trainer is %d), %d central epochs\n", c->name, c->system,
           l, c->c_index, c->epochs);
    path_of(csv, sizeof csv, "data.csv", -1);
    write_csv(csv);
    path_of(key_file, sizeof key_file, "key", -1);
    write_hex(key_file, KEY, 32);
    for (int t = 0; t < l; t++) {
        char p[300];
        path_of(p, sizeof p, "seed", t);
        seed_of(seed, t);
        write_hex(p, seed, 32);
        path_of(p, sizeof p, "port", t);
        unlink(p);
        path_of(p, sizeof p, "out", t);
        unlink(p);
    }
    snprintf(model_arg, sizeof model_arg, "%zu,%zu,%zu", c->sizes[0], c->sizes[1], c->sizes[2]);
    snprintf(act_arg, sizeof act_arg, "%s", c->activation_name);
    snprintf(lr_arg, sizeof lr_arg, "%.17g", c->lr);
    snprintf(drop_arg, sizeof drop_arg, "%.17g", c->dropout);
    snprintf(batch_arg, sizeof batch_arg, "%zu", c->batch);
    snprintf(local_arg, sizeof local_arg, "%zu", c->local_epochs);
    snprintf(epochs_arg, sizeof epochs_arg, "%d", c->epochs);
    snprintf(trainers_arg, sizeof trainers_arg, "%d", l);

    if (strcmp(c->system, "snt") == 0) {
        static int runs;
        char sdir[300];
        char *sargv[] = {(char *)bin, "serve", "--dir", sdir, "--listen", "127.0.0.1:0",
                         "--port-file", pf, NULL};
        path_of(sdir, sizeof sdir, "server", runs++); /* a fresh store for each run */
        path_of(pf, sizeof pf, "server-port", -1);
        unlink(pf);
        server = spawn(sargv, NULL, NULL);
        server_port = wait_port(pf);
        CHECK(server_port != 0);
    } else {
        char p[300];
        listener = tcp_listen(&my_port);
        path_of(p, sizeof p, "port", c->c_index);
        {
            char tmp[310];
            FILE *f;
            snprintf(tmp, sizeof tmp, "%s.tmp", p);
            f = fopen(tmp, "w");
            if (!f) exit(2);
            fprintf(f, "%u\n", my_port);
            fclose(f);
            rename(tmp, p);
        }
    }

    /* The Rust trainers. */
    for (int t = 0; t < l; t++) {
        int a = 0, k = 0;
        if (t == c->c_index) continue;
#define ARG(s) (argv[a++] = (char *)(s))
#define FMT(...) (snprintf(args[k], sizeof args[k], __VA_ARGS__), argv[a++] = args[k++])
        ARG(bin), ARG("train"), ARG("--system"), ARG(c->system);
        ARG("--index"), FMT("%d", t);
        ARG("--data"), ARG(csv), ARG("--key-file"), ARG(key_file);
        ARG("--out"), FMT("%s/out%d", dir, t);
        ARG("--seed-file"), FMT("%s/seed%d", dir, t);
        ARG("--model-id"), ARG(MODEL_TEXT);
        ARG("--model"), ARG(model_arg), ARG("--activation"), ARG(act_arg);
        ARG("--optimizer"), ARG(c->optimizer == FXS_OPTIMIZER_ADAM ? "adam" : "sgd");
        ARG("--lr"), ARG(lr_arg), ARG("--batch"), ARG(batch_arg);
        ARG("--local-epochs"), ARG(local_arg), ARG("--central-epochs"), ARG(epochs_arg);
        ARG("--trainers"), ARG(trainers_arg);
        if (c->dropout > 0) ARG("--dropout"), ARG(drop_arg);
        if (strcmp(c->system, "snt") == 0) {
            ARG("--server"), FMT("127.0.0.1:%u", server_port);
        } else {
            ARG("--listen"), ARG("127.0.0.1:0");
            ARG("--port-file"), FMT("%s/port%d", dir, t);
            ARG("--next-port-file"), FMT("%s/port%d", dir, (t + 1) % l);
        }
        argv[a] = NULL;
#undef ARG
#undef FMT
        pids[t] = spawn(argv, NULL, NULL);
    }

    /* The C trainer. */
    spec_of(c, &spec, &dropout);
    seed_of(seed, c->c_index); /* trainer 0's seed makes the initial weights */
    random_seed(nonce); /* nonces: fresh entropy, never reused under the key */
    CHECK_OK(fxs_float_model_new(&spec, seed, nonce, &m));
    CHECK_OK(fxs_float_model_sealed_len(m, &cap));
    buf = malloc(cap);
    if (m && buf) {
        if (strcmp(c->system, "snt") == 0) {
            c_snt_trainer(c, m, server_port, buf, cap);
        } else {
            char p[300];
            unsigned short next_port;
            path_of(p, sizeof p, "port", (c->c_index + 1) % l);
            next_port = wait_port(p);
            CHECK(next_port != 0);
            c_fnt_trainer(c, m, listener, next_port, buf, cap);
        }
    }
    if (listener >= 0) close(listener);
    for (int t = 0; t < l; t++) {
        if (t == c->c_index) continue;
        count(exited_with(wait_for(pids[t], 120), 0), __FILE__, __LINE__,
              "a Rust trainer process exits 0");
    }
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }

    /* Everyone's final weights equal centralized training, bit for bit. */
    reference = centralized(c);
    ref = export_of(reference, &ref_len);
    {
        size_t mine_len = 0;
        uint8_t *mine = export_of(m, &mine_len);
        count(mine && ref && mine_len == ref_len && memcmp(mine, ref, ref_len) == 0, __FILE__,
              __LINE__, "the C trainer's final weights equal centralized training");
        free(mine);
    }
    for (int t = 0; t < l; t++) {
        char p[300];
        size_t n = 0;
        uint8_t *out;
        if (t == c->c_index) continue;
        path_of(p, sizeof p, "out", t);
        out = read_file(p, &n);
        count(out && ref && n == ref_len && memcmp(out, ref, n) == 0, __FILE__, __LINE__,
              "a Rust trainer's final weights equal centralized training");
        if (out) {
            /* And they import into a C model. */
            fxs_float_model *copy = NULL;
            uint8_t s0[32] = {0}, s1[32] = {1};
            CHECK_OK(fxs_float_model_new(&spec, s0, s1, &copy));
            CHECK_OK(fxs_float_model_import(copy, out, n));
            fxs_float_model_free(copy);
        }
        free(out);
    }
    /* Training happened, and learned something: accuracy on all rows well above chance. */
    {
        double *probs = malloc(sizeof(double) * ROWS * CLASSES);
        int right = 0;
        size_t n = 0;
        CHECK_OK(fxs_float_model_param_count(m, &n));
        CHECK(n == c->sizes[1] * (c->sizes[0] + 1) + c->sizes[2] * (c->sizes[1] + 1));
        if (probs) {
            CHECK_OK(fxs_float_model_predict(m, X, ROWS, probs, ROWS * CLASSES));
            for (int r = 0; r < ROWS; r++) {
                int best = 0;
                for (int k = 1; k < CLASSES; k++)
                    if (probs[r * CLASSES + k] > probs[r * CLASSES + best]) best = k;
                right += best == (int)Y[r];
            }
            printf("  accuracy on the training rows: %.3f\n", (double)right / ROWS);
            CHECK(right > ROWS * 2 / 3);
        }
        free(probs);
    }
    free(ref);
    free(buf);
    fxs_float_model_free(reference);
    fxs_float_model_free(m);
}

/* ----- error paths ----- */

static const size_t SMALL[3] = {FEATURES, 4, CLASSES};

static fxs_float_model *small_model(uint8_t tag) {
    fxs_float_spec spec;
    uint8_t seed[32], nonce[32];
    fxs_float_model *m = NULL;
    fxs_float_spec_init(&spec);
    spec.sizes = SMALL;
    spec.n_sizes = 3;
    spec.optimizer = FXS_OPTIMIZER_ADAM;
    spec.learning_rate = 0.01;
    memset(seed, tag, 32);
    memset(nonce, tag + 100, 32);
    CHECK_OK(fxs_float_model_new(&spec, seed, nonce, &m));
    return m;
}

/* The weights and optimizer state, to check that a refused call changed nothing. */
static int unchanged(fxs_float_model *m, const uint8_t *before, size_t len) {
    size_t n = 0;
    uint8_t *now = export_of(m, &n);
    int same = now && n == len && memcmp(now, before, len) == 0;
    free(now);
    return same;
}

static void errors(void) {
    fxs_float_spec spec;
    uint8_t seed[32] = {1}, nonce[32] = {2}, wrong_key[32];
    fxs_float_model *m = NULL, *a = small_model(1), *b = small_model(2);
    fxs_weights_round r = round_of(3, 4), other;
    size_t cap = 0, written = 0, before_len = 0;
    uint8_t *sealed, *bad, *before;
    double params[64];
    const size_t one[1] = {3};
    const size_t wide[3] = {FEATURES, 5, CLASSES};

    /* Creating a model. */
    fxs_float_spec_init(NULL);
    fxs_float_spec_init(&spec);
    CHECK(spec.activation == FXS_ACTIVATION_RELU && spec.batch == 32 && spec.local_epochs == 1);
    CHECK_STATUS(fxs_float_model_new(&spec, seed, nonce, &m), FXS_STATUS_NULL_POINTER);
    CHECK(m == NULL);
    CHECK_STATUS(fxs_float_model_new(NULL, seed, nonce, &m), FXS_STATUS_NULL_POINTER);
    spec.sizes = one;
    spec.n_sizes = 1;
    CHECK_STATUS(fxs_float_model_new(&spec, seed, nonce, &m), FXS_STATUS_INVALID_ARGUMENT);
    spec.sizes = SMALL;
    spec.n_sizes = 3;
    spec.activation = 99;
    CHECK_STATUS(fxs_float_model_new(&spec, seed, nonce, &m), FXS_STATUS_INVALID_ARGUMENT);
    spec.activation = FXS_ACTIVATION_TANH;
    spec.batch = 0;
    CHECK_STATUS(fxs_float_model_new(&spec, seed, nonce, &m), FXS_STATUS_INVALID_ARGUMENT);
    spec.batch = 8;
    spec.n_dropout = 1; /* dropout NULL with a count */
    CHECK_STATUS(fxs_float_model_new(&spec, seed, nonce, &m), FXS_STATUS_NULL_POINTER);
    spec.n_dropout = 0;
    CHECK_STATUS(fxs_float_model_new(&spec, NULL, nonce, &m), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_new(&spec, seed, NULL, &m), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_new(&spec, seed, nonce, NULL), FXS_STATUS_NULL_POINTER);
    CHECK(strstr(fxs_last_error_message(), "fxs_float_model_new") != NULL);
    fxs_float_model_free(NULL);

    /* Sizes, and the size query of sealing. */
    CHECK_STATUS(fxs_float_model_sealed_len(NULL, &cap), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_sealed_len(a, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_float_model_sealed_len(a, &cap));
    CHECK_STATUS(fxs_float_model_seal(a, KEY, &r, 1, NULL, 0, &written),
                 FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK(written == cap);
    sealed = malloc(cap + 16);
    bad = malloc(cap + 16);
    if (!sealed || !bad) exit(2);
    CHECK_STATUS(fxs_float_model_seal(a, KEY, &r, 1, sealed, cap - 1, &written),
                 FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK(written == cap);
    CHECK_STATUS(fxs_float_model_seal(a, NULL, &r, 1, sealed, cap, &written),
                 FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_seal(a, KEY, NULL, 1, sealed, cap, &written),
                 FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_seal(a, KEY, &r, 1, sealed, cap, NULL),
                 FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_seal(a, KEY, &r, 3, sealed, cap, &written),
                 FXS_STATUS_INVALID_ARGUMENT); /* trainer 3 of 3 */
    other = r;
    other.trainers = 0;
    CHECK_STATUS(fxs_float_model_seal(a, KEY, &other, 0, sealed, cap, &written),
                 FXS_STATUS_INVALID_ARGUMENT);
    /* Version 4 of 3 trainers: step 3, trainer 0's turn. A larger buffer is fine. */
    CHECK_OK(fxs_float_model_seal(a, KEY, &r, 0, sealed, cap + 16, &written));
    CHECK(written == cap);

    /* Opening: every refusal leaves b's weights unchanged. */
    before = export_of(b, &before_len);
    memset(wrong_key, 0x77, 32);
    CHECK_STATUS(fxs_float_model_open(b, wrong_key, &r, sealed, cap),
                 FXS_STATUS_WEIGHTS_AUTHENTICATION);
    CHECK(strstr(fxs_last_error_message(), "wrong key") != NULL);
    CHECK(strcmp(fxs_status_name(FXS_STATUS_WEIGHTS_AUTHENTICATION),
                 "FXS_STATUS_WEIGHTS_AUTHENTICATION") == 0);
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, sealed, cap - 1), FXS_STATUS_MALFORMED);
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, sealed, 40), FXS_STATUS_MALFORMED);
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, sealed, 0), FXS_STATUS_MALFORMED);
    memcpy(bad, sealed, cap);
    bad[cap] = 0;
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, bad, cap + 1), FXS_STATUS_MALFORMED);
    memcpy(bad, sealed, cap);
    bad[cap / 2] ^= 0x10; /* a flipped ciphertext bit */
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, bad, cap), FXS_STATUS_WEIGHTS_AUTHENTICATION);
    memcpy(bad, sealed, cap);
    bad[cap - 1] ^= 1; /* the tag */
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, bad, cap), FXS_STATUS_WEIGHTS_AUTHENTICATION);
    memcpy(bad, sealed, cap);
    bad[8] ^= 1; /* the model id in the header */
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, bad, cap), FXS_STATUS_WEIGHTS_WRONG_MODEL);
    other = round_of(3, 5); /* expecting the next round: these are older (a replay) */
    CHECK_STATUS(fxs_float_model_open(b, KEY, &other, sealed, cap), FXS_STATUS_WEIGHTS_REPLAYED);
    other = round_of(3, 3); /* expecting an earlier round: a round was skipped */
    CHECK_STATUS(fxs_float_model_open(b, KEY, &other, sealed, cap), FXS_STATUS_WEIGHTS_AHEAD);
    other = round_of(4, 4);
    CHECK_STATUS(fxs_float_model_open(b, KEY, &other, sealed, cap),
                 FXS_STATUS_WEIGHTS_WRONG_TRAINERS);
    other = r;
    other.model_id[0] ^= 1;
    CHECK_STATUS(fxs_float_model_open(b, KEY, &other, sealed, cap),
                 FXS_STATUS_WEIGHTS_WRONG_MODEL);
    /* Sealed by trainer 2 for step 3, which is trainer 0's turn. */
    CHECK_OK(fxs_float_model_seal(a, KEY, &r, 2, bad, cap, &written));
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, bad, cap), FXS_STATUS_WEIGHTS_OUT_OF_ORDER);
    CHECK_STATUS(fxs_float_model_open(b, KEY, &r, NULL, cap), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_open(b, NULL, &r, sealed, cap), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_open(b, KEY, NULL, sealed, cap), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_float_model_open(NULL, KEY, &r, sealed, cap), FXS_STATUS_NULL_POINTER);
    /* Authentic weights of a network of another size. */
    {
        fxs_float_model *w = NULL;
        size_t wcap = 0;
        uint8_t *ws;
        spec.sizes = wide;
        spec.optimizer = FXS_OPTIMIZER_ADAM;
        CHECK_OK(fxs_float_model_new(&spec, seed, nonce, &w));
        CHECK_OK(fxs_float_model_sealed_len(w, &wcap));
        ws = malloc(wcap);
        if (ws) {
            CHECK_OK(fxs_float_model_seal(w, KEY, &r, 0, ws, wcap, &written));
            CHECK_STATUS(fxs_float_model_open(b, KEY, &r, ws, wcap), FXS_STATUS_MALFORMED);
        }
        free(ws);
        fxs_float_model_free(w);
        spec.sizes = SMALL;
    }
    CHECK(unchanged(b, before, before_len));
    /* The right weights open, and b now holds a's. */
    CHECK_OK(fxs_float_model_open(b, KEY, &r, sealed, cap));
    {
        size_t na = 0;
        uint8_t *ea = export_of(a, &na);
        CHECK(unchanged(b, ea, na));
        free(ea);
    }

    /* Training data. */
    free(before);
    before = export_of(b, &before_len);
    {
        double y_bad[2] = {0, 3}; /* class 3 of 3 */
        double x_nan[2 * FEATURES];
        memcpy(x_nan, X, sizeof x_nan);
        x_nan[3] = NAN;
        CHECK_STATUS(fxs_float_model_train(b, X, 2, FEATURES, y_bad, seed, 0),
                     FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_float_model_train(b, x_nan, 2, FEATURES, Y, seed, 0),
                     FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_float_model_train(b, X, 2, FEATURES - 1, Y, seed, 0),
                     FXS_STATUS_DIMENSION_MISMATCH);
        CHECK_STATUS(fxs_float_model_train(b, NULL, 2, FEATURES, Y, seed, 0),
                     FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_float_model_train(b, X, 2, FEATURES, NULL, seed, 0),
                     FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_float_model_train(b, X, 2, FEATURES, Y, NULL, 0),
                     FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_float_model_train(b, X, SIZE_MAX / 2, FEATURES, Y, seed, 0),
                     FXS_STATUS_CAPACITY);
        CHECK(unchanged(b, before, before_len));
        CHECK_OK(fxs_float_model_train(b, X, 0, FEATURES, NULL, seed, 0)); /* no rows */
        CHECK(unchanged(b, before, before_len));
        CHECK_STATUS(fxs_float_model_predict(b, X, 2, params, 5), FXS_STATUS_BUFFER_TOO_SMALL);
        CHECK_STATUS(fxs_float_model_predict(b, NULL, 2, params, 6), FXS_STATUS_NULL_POINTER);
    }

    /* Plain weights in and out. */
    {
        size_t n = 0, elen = 0;
        uint8_t *e;
        CHECK_OK(fxs_float_model_param_count(b, &n));
        CHECK(n == 4 * (FEATURES + 1) + CLASSES * 5 && n <= 64);
        CHECK_STATUS(fxs_float_model_get_params(b, params, n - 1), FXS_STATUS_BUFFER_TOO_SMALL);
        CHECK_STATUS(fxs_float_model_get_params(b, NULL, n), FXS_STATUS_NULL_POINTER);
        CHECK_OK(fxs_float_model_get_params(b, params, n));
        CHECK_STATUS(fxs_float_model_set_params(b, params, n - 1),
                     FXS_STATUS_DIMENSION_MISMATCH);
        params[1] = INFINITY;
        CHECK_STATUS(fxs_float_model_set_params(b, params, n), FXS_STATUS_INVALID_ARGUMENT);
        CHECK(unchanged(b, before, before_len));
        params[1] = 0.5;
        CHECK_OK(fxs_float_model_set_params(b, params, n));
        e = export_of(b, &elen);
        CHECK_STATUS(fxs_float_model_export(b, sealed, elen - 1, &written),
                     FXS_STATUS_BUFFER_TOO_SMALL);
        CHECK(written == elen);
        CHECK_STATUS(fxs_float_model_import(a, e, elen - 8), FXS_STATUS_MALFORMED);
        CHECK_STATUS(fxs_float_model_import(a, NULL, elen), FXS_STATUS_NULL_POINTER);
        CHECK_OK(fxs_float_model_import(a, e, elen));
        CHECK(unchanged(a, e, elen));
        free(e);
    }
    free(before);
    free(sealed);
    free(bad);
    fxs_float_model_free(a);
    fxs_float_model_free(b);
}

/* Ring passes between two threads over a socket pair: a receiver expecting another length. */
typedef struct {
    int fd;
    size_t len;
} sender_arg;

static void *sender(void *p) {
    sender_arg *s = p;
    fxs_transport t = socket_transport(&s->fd);
    fxs_link *link = NULL;
    uint8_t *buf = calloc(s->len, 1);
    if (fxs_link_new(&t, 0, &link) == FXS_STATUS_OK && buf)
        (void)fxs_weights_pass(link, buf, s->len);
    fxs_link_free(link);
    free(buf);
    return NULL;
}

static void ring_lengths(void) {
    int fds[2];
    pthread_t th;
    sender_arg s;
    fxs_transport t;
    fxs_link *link = NULL;
    uint8_t buf[100];
    make_pair(fds);
    s.fd = fds[0];
    s.len = 120;
    t = socket_transport(&fds[1]);
    CHECK_OK(fxs_link_new(&t, 0, &link));
    CHECK_STATUS(fxs_weights_pass(NULL, buf, 10), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_weights_pass(link, NULL, 10), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_weights_receive(link, NULL, 10), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_snt_upload(link, 0, NULL, 10), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_snt_fetch(link, NULL, 0, buf, 10), FXS_STATUS_NULL_POINTER);
    if (pthread_create(&th, NULL, sender, &s) != 0) exit(2);
    /* 120 bytes announced, 100 expected: refused before anything lands in buf. */
    CHECK_STATUS(fxs_weights_receive(link, buf, sizeof buf), FXS_STATUS_UNEXPECTED_LENGTH);
    /* The link is out of step now. */
    CHECK_STATUS(fxs_weights_receive(link, buf, sizeof buf), FXS_STATUS_POISONED);
    pthread_join(th, NULL);
    fxs_link_free(link);
    close(fds[0]);
    close(fds[1]);
}

int main(void) {
    const char *bin = getenv("FIXSHARE_SNT_BIN");
    static const config configs[] = {
        {"ring, SGD, ReLU, C in the middle", "fnt", 4, 2, 3, {FEATURES, 8, CLASSES},
         FXS_ACTIVATION_RELU, "relu", FXS_OPTIMIZER_SGD, 0.1, 0, 8, 2},
        {"ring, Adam, tanh, dropout, C first", "fnt", 3, 0, 2, {FEATURES, 6, CLASSES},
         FXS_ACTIVATION_TANH, "tanh", FXS_OPTIMIZER_ADAM, 0.02, 0.2, 16, 1},
        {"server, Adam, sigmoid, C last", "snt", 3, 2, 2, {FEATURES, 7, CLASSES},
         FXS_ACTIVATION_SIGMOID, "sigmoid", FXS_OPTIMIZER_ADAM, 0.05, 0, 10, 2},
        {"server, SGD, leaky ReLU, C first", "snt", 4, 0, 2, {FEATURES, 6, CLASSES},
         FXS_ACTIVATION_LEAKY_RELU, "leaky-relu", FXS_OPTIMIZER_SGD, 0.1, 0.1, 8, 1},
    };
    signal(SIGPIPE, SIG_IGN);
    make_data();
    errors();
    ring_lengths();
    if (!bin || access(bin, X_OK) != 0) {
        fprintf(stderr, "FIXSHARE_SNT_BIN must name the fixshare-snt binary (cargo build -p "
                        "fixshare-snt --release)\n");
        failed++;
    } else {
        make_temp_dir(dir, sizeof dir, "fxs-weights");
        for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
            run_with_rust_trainers(bin, &configs[i]);
        remove_dir(dir);
    }
    return report();
}
