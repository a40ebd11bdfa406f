// Tests of the C++17 wrapper (examples/cpp/fixshare.hpp): two parties as threads over one socket
// pair with the OT-based offline phase (no dealer; the OTs share the connection), the non-linear
// layer against the plaintext reference, regression, a perceptron and a convolution network on
// shares, AES-128 as a Bristol circuit (FIPS-197 C.1), and errors as exceptions.
//
// Usage: test_wrapper [CIRCUITS_DIR]   (default core/circuits, from the repository root)
// Prints "N passed, M failed" and exits non-zero if anything failed.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "fixshare.hpp"

namespace {

std::atomic<int> passed{0}, failed{0};

void count(bool ok, int line, const std::string &what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        std::fprintf(stderr, "test_wrapper.cpp:%d: FAILED: %s\n", line, what.c_str());
    }
}
#define CHECK(cond) count((cond), __LINE__, #cond)

// Runs f and checks that it throws fxs::Error with `status` and a message containing `needle`.
void expect_error(int line, fxs_status status, const char *needle, const std::function<void()> &f) {
    try {
        f();
        count(false, line, std::string("no exception; expected ") + fxs_status_name(status));
    } catch (const fxs::Error &e) {
        count(e.status() == status && std::strstr(e.what(), needle) != nullptr, line, e.what());
    }
}

// A blocking stream over one end of a socket pair.
class FdStream {
public:
    explicit FdStream(int fd) : fd_(fd) {}
    void send(const std::uint8_t *buf, std::size_t len) {
        while (len > 0) {
            ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) throw fxs::Closed();
            if (n < 0) throw std::system_error(errno, std::generic_category(), "send");
            buf += n;
            len -= static_cast<std::size_t>(n);
        }
    }
    void recv(std::uint8_t *buf, std::size_t len) {
        while (len > 0) {
            ssize_t n = ::recv(fd_, buf, len, 0);
            if (n == 0) throw fxs::Closed();
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw std::system_error(errno, std::generic_category(), "recv");
            buf += n;
            len -= static_cast<std::size_t>(n);
        }
    }
    void hang_up() { ::shutdown(fd_, SHUT_RDWR); }

private:
    int fd_;
};

// Big-endian hex as `width` bits, least significant first.
std::vector<std::uint8_t> hex_bits(const std::string &hex, std::size_t width) {
    std::vector<std::uint8_t> bits(width, 0);
    for (std::size_t k = 0; k < hex.size() && 4 * k < width; k++) {
        char c = hex[hex.size() - 1 - k];
        int v = (c >= '0' && c <= '9') ? c - '0' : c - 'a' + 10;
        for (int j = 0; j < 4; j++) bits[4 * k + static_cast<std::size_t>(j)] = (v >> j) & 1;
    }
    return bits;
}

const std::vector<double> kX = {1.5, -2.25, 0.0, 0.375, -0.25, 3.0};
const std::vector<double> kY = {0.5, -2.0, 0.0, 1.0, -0.5, 3.0};
const char *kKey = "000102030405060708090a0b0c0d0e0f";
const char *kPlain = "00112233445566778899aabbccddeeff";
const char *kCipher = "69c4e0d86a7b0430d8cdb78070b4c55a";

bool close_to(const std::vector<double> &got, const std::vector<double> &want, double tol) {
    if (got.size() != want.size()) return false;
    for (std::size_t i = 0; i < got.size(); i++)
        if (std::fabs(got[i] - want[i]) > tol) return false;
    return true;
}

void party(std::uint32_t role, int peer_fd, const fxs::Circuit *aes) {
    FdStream peer(peer_fd);
    fxs_party_config cfg = fxs::Party::default_config();
    cfg.role = role;
    cfg.truncation = FXS_TRUNCATION_EXACT;
    for (int i = 0; i < 32; i++) cfg.seed[i] = static_cast<std::uint8_t>(60 + 7 * role + i);
    cfg.offline = FXS_OFFLINE_OT;
    cfg.peer = fxs::make_transport(peer);
    try {
        fxs::Party p(cfg);
        const double ulp = std::ldexp(1.0, -16);
        // The base OTs crossed the peer connection, as offline traffic.
        CHECK(p.peer_stats().bytes_sent == 0 && p.offline_stats().bytes_sent > 0);
        fxs::Shares x = role == 0 ? p.share_input(kX) : p.receive_input(kX.size());
        fxs::Shares y = role == 1 ? p.share_input(kY) : p.receive_input(kY.size());
        std::vector<double> relu, sign, lt, sig, pw;
        for (std::size_t i = 0; i < kX.size(); i++) {
            relu.push_back(kX[i] > 0 ? kX[i] : 0.0);
            sign.push_back(kX[i] >= 0 ? 1.0 : 0.0);
            lt.push_back(kX[i] < kY[i] ? 1.0 : 0.0);
            sig.push_back(1.0 / (1.0 + std::exp(-kX[i])));
            pw.push_back(kX[i] < -0.5 ? 0.0 : kX[i] > 0.5 ? 1.0 : kX[i] + 0.5);
        }
        CHECK(close_to(p.reveal(p.relu(x)), relu, 0));
        auto rd = p.relu_with_derivative(x);
        CHECK(close_to(p.reveal(rd.first), relu, 0) && close_to(p.reveal(rd.second), sign, 0));
        CHECK(close_to(p.reveal(p.drelu(x)), sign, 0));
        CHECK(close_to(p.reveal(p.less_than(x, y)), lt, 0));
        CHECK(close_to(p.reveal(p.sigmoid_piecewise(x)), pw, 0));
        CHECK(close_to(p.reveal(p.sigmoid(x)), sig, 0.003 + 4 * ulp));
        // Rows of x as a 2 x 3 matrix: maxima 1.5 and 3.0 at columns 0 and 2.
        fxs::Shares m = role == 0 ? p.share_input(kX, 2, 3) : p.receive_input(2, 3);
        CHECK(close_to(p.reveal(p.max(m)), {1.5, 3.0}, 0));
        auto am = p.argmax(m);
        CHECK(close_to(p.reveal(am.first), {1.5, 3.0}, 0) && close_to(p.reveal(am.second), {0, 2}, 0));
        fxs_pool2d pool{1, 2, 3, 2, 1};  // x as one 2 x 3 image, 2 x 2 windows, stride 1
        fxs::Shares img = role == 0 ? p.share_input(kX, 1, 6) : p.receive_input(1, 6);
        CHECK(close_to(p.reveal(p.max_pool(img, pool)), {1.5, 3.0}, 0));
        CHECK(close_to(p.reveal(p.truncate_exact(p.mul_public_integer(x, 8), 3)), kX, 0));
        // With exact truncation every product is exact too.
        std::vector<double> xy;
        for (std::size_t i = 0; i < kX.size(); i++) xy.push_back(kX[i] * kY[i]);
        CHECK(close_to(p.reveal(p.mul(x, y)), xy, 0));

        // Linear regression y = 2 x - 1 on shares (party 0 the features, party 1 the targets):
        // one full-batch SGD step from zero weights is w = lr * (mean(x y), mean(y)).
        {
            const std::vector<double> fx = {0.5, -1.0, 1.5, 0.0}, fy = {0.0, -3.0, 2.0, -1.0};
            fxs::Shares sx = role == 0 ? p.share_input(fx) : p.receive_input(4);
            fxs::Shares sy = role == 1 ? p.share_input(fy) : p.receive_input(4);
            double xy = 0, my = 0;
            for (int i = 0; i < 4; i++) {
                xy += fx[i] * fy[i] / 4;
                my += fy[i] / 4;
            }
            fxs_sgd_params sgd{1, 4, 0.5};
            CHECK(close_to(p.reveal(p.train_glm(sx, sy, sgd, FXS_MODEL_LINEAR)), {0.5 * xy, 0.5 * my}, 4 * ulp));
            sgd.batch = 0;
            expect_error(__LINE__, FXS_STATUS_INVALID_ARGUMENT, "fxs_party_train_glm",
                         [&] { p.train_glm(sx, sy, sgd, FXS_MODEL_LOGISTIC_PIECEWISE); });
            // A 2-2 network (no hidden layer) owned by party 1: class 1 where x1 > x0.
            const std::vector<std::size_t> sizes = {2, 2};
            const std::vector<double> w = {1, 0, 0, 1, 0, 0}, in = {1.0, -2.0, -0.5, 0.75};
            auto classes = role == 1 ? p.classify_dense_owner(sizes, w, 2)
                                     : p.classify_dense_client(sizes, in, 2);
            CHECK(role == 1 ? classes.empty() : classes == std::vector<std::size_t>({0, 1}));
        }

        // A 2-3-2 perceptron on shares: 0 epochs give the seed's public weights; training reports
        // each epoch; an exception thrown by the callback comes back after the call.
        {
            const std::vector<double> fx = {0.5, -1.0, 1.5, 0.0, -0.5, 0.25, 1.0, -1.5};
            const std::vector<double> fy = {1, 0, 0, 1, 1, 0, 0, 1};  // one-hot
            fxs::Shares sx = role == 0 ? p.share_input(fx, 4, 2) : p.receive_input(4, 2);
            fxs::Shares sy = role == 1 ? p.share_input(fy, 4, 2) : p.receive_input(4, 2);
            const std::vector<std::size_t> sizes = {2, 3, 2};
            fxs_mlp_params mp{};
            mp.sgd.batch = 2;
            mp.sgd.learning_rate = 0.25;
            mp.loss = FXS_MLP_LOSS_SQUARED;
            mp.init_seed = 5;
            const std::vector<double> init = fxs::mlp_init(sizes, 5);
            CHECK(init.size() == 3 * 3 + 4 * 2);
            auto w0 = p.train_mlp(sx, sy, sizes, mp);
            std::vector<double> got = p.reveal(w0[0]), got1 = p.reveal(w0[1]);
            got.insert(got.end(), got1.begin(), got1.end());
            CHECK(w0.size() == 2 && close_to(got, init, ulp));
            mp.sgd.epochs = 2;
            std::size_t calls = 0;
            auto w = p.train_mlp(sx, sy, sizes, mp, init, [&](const fxs_progress &g) {
                CHECK(g.epoch == ++calls && g.epochs == 2 && g.online.bytes_sent > 0);
            });
            CHECK(calls == 2 && w.size() == 2 && w[0].rows() == 3 && w[0].cols() == 3 &&
                  w[1].rows() == 4 && w[1].cols() == 2);
            try {
                p.train_mlp(sx, sy, sizes, mp, {},
                            [](const fxs_progress &) { throw std::runtime_error("stop"); });
                CHECK(false);
            } catch (const std::runtime_error &e) {
                CHECK(std::string(e.what()) == "stop");
            }
            expect_error(__LINE__, FXS_STATUS_INVALID_ARGUMENT, "fxs_party_train_mlp",
                         [&] { p.train_mlp(sx, sy, {2}, mp); });
            expect_error(__LINE__, FXS_STATUS_DIMENSION_MISMATCH, "init_len",
                         [&] { p.train_mlp(sx, sy, sizes, mp, {1.0, 2.0}); });
            CHECK(close_to(p.reveal(p.relu_softmax(sy)), fy, 0));
            // |x| as a piecewise-linear function, and the untruncated product of integers.
            CHECK(close_to(p.reveal(p.piecewise_linear(sx, {-2.0, 0.0, 2.0}, {2.0, 0.0, 2.0})),
                           {0.5, 1.0, 1.5, 0.0, 0.5, 0.25, 1.0, 1.5}, 2 * ulp));
            fxs::Shares two = p.mul_public_integer(sy, 2);  // fixed-point 2.0 and 0.0
            std::vector<double> prod;
            for (double v : fy) prod.push_back(v * 4 * 65536);  // (2 v)^2 with 32 fractional bits
            CHECK(close_to(p.reveal(p.mul_integer(two, two)), prod, 0));
            CHECK(p.reveal(sx.reshape(2, 4)) == p.reveal(sx) && sx.reshape(1, 8).cols() == 8);
        }

        // A convolution network owned by party 1: two 4 x 4 images, a 2 x 2 kernel with stride 2,
        // ReLU, 2 x 2 max pooling, a dense layer to 2 classes.
        {
            fxs::Network net;
            net.input = 16;
            net.layers = {fxs::conv(fxs::image(1, 4, 4), 1, 2, 2), fxs::relu(),
                          fxs::max_pool(fxs::image(1, 2, 2), 2, 2), fxs::dense(1, 2)};
            CHECK(net.output_width() == 2 && net.weights_len() == 9);
            const std::vector<double> w = {1, -1, 0.5, 0.25, 0, 1, -1, 0, 0.5};
            std::vector<double> in(32, 1.0);
            for (std::size_t i = 16; i < 32; i++) in[i] = -1.0;
            // Image 0: every window 0.75, so outputs (0.75, -0.25); image 1: ReLU 0, so (0, 0.5).
            fxs::Shares out = role == 1 ? p.forward_owner(net, w, 2) : p.forward_client(net, in, 2);
            CHECK(close_to(p.reveal(out), {0.75, -0.25, 0.0, 0.5}, 4 * ulp));
            if (role == 1) {
                p.classify_owner(net, w, 2);
            } else {
                CHECK(p.classify_client(net, in, 2) == std::vector<std::size_t>({0, 1}));
            }
            fxs::Network bad = net;
            bad.layers[2] = fxs::max_pool(fxs::image(1, 3, 3), 2, 2);
            expect_error(__LINE__, FXS_STATUS_INVALID_ARGUMENT, "do not chain",
                         [&] { bad.output_width(); });
            expect_error(__LINE__, FXS_STATUS_INVALID_ARGUMENT, "fxs_party_classify", [&] {
                if (role == 1)
                    p.classify_owner(bad, w, 2);
                else
                    p.classify_client(bad, in, 2);
            });
        }

        // AES-128 between the parties: party 0 the key, party 1 the block.
        const auto ct = hex_bits(kCipher, 128);
        auto out = p.run_circuit(*aes, {FXS_ROLE_P0, FXS_ROLE_P1},
                                 hex_bits(role == 0 ? kKey : kPlain, 128), FXS_REVEAL_BOTH);
        CHECK(out == ct);
        out = p.run_circuit(*aes, {FXS_ROLE_P0, FXS_ROLE_P1},
                            hex_bits(role == 0 ? kKey : kPlain, 128), FXS_REVEAL_P1);
        CHECK(role == 1 ? out == ct : out.empty());
        // XOR-shared outputs, continued as arithmetic shares of the ciphertext bits.
        out = p.run_circuit(*aes, {FXS_ROLE_P0, FXS_ROLE_P1},
                            hex_bits(role == 0 ? kKey : kPlain, 128), FXS_REVEAL_SHARED);
        CHECK(out.size() == 128);
        CHECK(close_to(p.reveal(p.bits_to_shares(out)), std::vector<double>(ct.begin(), ct.end()), 0));

        // Argument errors throw and leave the party usable.
        expect_error(__LINE__, FXS_STATUS_DIMENSION_MISMATCH, "fxs_party_run_circuit", [&] {
            p.run_circuit(*aes, {FXS_ROLE_P0, FXS_ROLE_P1}, std::vector<std::uint8_t>(5),
                          FXS_REVEAL_BOTH);
        });
        expect_error(__LINE__, FXS_STATUS_DIMENSION_MISMATCH, "different shapes",
                     [&] { p.less_than(x, m); });
        expect_error(__LINE__, FXS_STATUS_DIMENSION_MISMATCH, "fxs_party_mul: mul",
                     [&] { p.mul(x, m); });
        expect_error(__LINE__, FXS_STATUS_INVALID_ARGUMENT, "fxs_party_truncate: truncate",
                     [&] { p.truncate(x, 200); });
        CHECK(close_to(p.reveal(x), kX, 0));
        CHECK(close_to(p.reveal(p.mul(x, y)), xy, 0));
        CHECK(p.peer_stats().bytes_sent > 0 && p.offline_stats().bytes_sent > 0);

        // The peer hangs up: CLOSED, then POISONED; the party is still destroyed cleanly.
        if (role == 1) peer.hang_up();
        expect_error(__LINE__, FXS_STATUS_CLOSED, "fxs_party_relu: relu", [&] { p.relu(x); });
        expect_error(__LINE__, FXS_STATUS_POISONED, "first failure", [&] { p.reveal(x); });
    } catch (const std::exception &e) {
        count(false, __LINE__, std::string("party threw: ") + e.what());
    }
    peer.hang_up();
}

std::string read_text(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

int main(int argc, char **argv) {
    const std::string dir = argc > 1 ? argv[1] : "core/circuits";
    expect_error(__LINE__, FXS_STATUS_BAD_CIRCUIT, "line 2", [] { fxs::Circuit("1 3\n2 x 1\n"); });
    expect_error(__LINE__, FXS_STATUS_BAD_CIRCUIT, "line 1", [] { fxs::Circuit(""); });
    try {
        fxs::Circuit aes(read_text(dir + "/aes_128.txt"));
        fxs_circuit_info info = aes.info();
        CHECK(info.inputs == 2 && info.input_bits == 256 && info.output_bits == 128 &&
              info.and_gates == 6400);
        auto in = hex_bits(kKey, 128);
        auto pt = hex_bits(kPlain, 128);
        in.insert(in.end(), pt.begin(), pt.end());
        CHECK(aes.eval(in) == hex_bits(kCipher, 128));

        int peer[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, peer) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        std::thread p1(party, FXS_ROLE_P1, peer[1], &aes);
        party(FXS_ROLE_P0, peer[0], &aes);
        p1.join();
        for (int fd : {peer[0], peer[1]}) ::close(fd);
    } catch (const std::exception &e) {
        count(false, __LINE__, std::string("main threw: ") + e.what());
    }
    std::printf("%d passed, %d failed\n", passed.load(), failed.load());
    return failed == 0 ? 0 : 1;
}
