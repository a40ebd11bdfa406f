// A small C++17 wrapper over fixshare's C API: owning handles (move-only), exceptions for
// errors, std::vector for values. Header-only; link libfixshare as for C.
#ifndef FIXSHARE_HPP
#define FIXSHARE_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "fixshare.h"

namespace fxs {

// A failed fixshare call: the status code and fixshare's message (which names the operation).
class Error : public std::runtime_error {
public:
    Error(fxs_status status, const std::string &message)
        : std::runtime_error(std::string(fxs_status_name(status)) + ": " + message),
          status_(status) {}
    fxs_status status() const noexcept { return status_; }

private:
    fxs_status status_;
};

// Throws fxs::Error unless status is FXS_STATUS_OK.
inline void check(fxs_status status) {
    if (status != FXS_STATUS_OK) throw Error(status, fxs_last_error_message());
}

// Thrown by a Stream to report that the connection closed (becomes FXS_IO_CLOSED).
struct Closed : std::runtime_error {
    Closed() : std::runtime_error("connection closed") {}
};

// An fxs_transport over any object with `void send(const std::uint8_t*, std::size_t)` and
// `void recv(std::uint8_t*, std::size_t)` that block until done and throw on failure. The
// stream must outlive every object using the transport. No exception crosses into fixshare:
// fxs::Closed becomes FXS_IO_CLOSED, anything else -1.
template <class Stream>
fxs_transport make_transport(Stream &stream) {
    fxs_transport t{};
    t.send = [](void *user, const std::uint8_t *buf, std::size_t len) noexcept -> int {
        try {
            static_cast<Stream *>(user)->send(buf, len);
            return FXS_IO_OK;
        } catch (const Closed &) {
            return FXS_IO_CLOSED;
        } catch (...) {
            return -1;
        }
    };
    t.recv = [](void *user, std::uint8_t *buf, std::size_t len) noexcept -> int {
        try {
            static_cast<Stream *>(user)->recv(buf, len);
            return FXS_IO_OK;
        } catch (const Closed &) {
            return FXS_IO_CLOSED;
        } catch (...) {
            return -1;
        }
    };
    t.flush = nullptr;
    t.user_data = &stream;
    return t;
}

namespace detail {
struct SharesFree {
    void operator()(fxs_shares *s) const noexcept { fxs_shares_free(s); }
};
struct PartyFree {
    void operator()(fxs_party *p) const noexcept { fxs_party_free(p); }
};
struct LinkFree {
    void operator()(fxs_link *l) const noexcept { fxs_link_free(l); }
};
struct CircuitFree {
    void operator()(fxs_circuit *c) const noexcept { fxs_circuit_free(c); }
};

// A progress callback for fxs_progress_fn: the first exception it throws is kept (none crosses
// into fixshare) and rethrown once the training call returns.
struct Progress {
    explicit Progress(const std::function<void(const fxs_progress &)> &f) : fn(f) {}
    static void call(void *user, const fxs_progress *progress) noexcept {
        auto *p = static_cast<Progress *>(user);
        if (p->error) return;
        try {
            p->fn(*progress);
        } catch (...) {
            p->error = std::current_exception();
        }
    }
    fxs_progress_fn function() const noexcept { return fn ? &Progress::call : nullptr; }
    void *user() noexcept { return this; }
    void rethrow() const {
        if (error) std::rethrow_exception(error);
    }
    const std::function<void(const fxs_progress &)> &fn;
    std::exception_ptr error;
};
}  // namespace detail

// Called after each training epoch: the epoch (from 1), the number of epochs, the traffic so far.
using ProgressFn = std::function<void(const fxs_progress &)>;

// Layers of a network for Party::classify_* and Party::forward_* (see fxs_layer).
inline fxs_image image(std::size_t channels, std::size_t height, std::size_t width) {
    fxs_image i{};
    i.channels = channels;
    i.height = height;
    i.width = width;
    return i;
}
inline fxs_layer dense(std::size_t inputs, std::size_t outputs) {
    fxs_layer l{};
    l.kind = FXS_LAYER_DENSE;
    l.inputs = inputs;
    l.outputs = outputs;
    return l;
}
inline fxs_layer conv(const fxs_image &input, std::size_t filters, std::size_t kernel,
                      std::size_t stride = 1, std::size_t padding = 0) {
    fxs_layer l{};
    l.kind = FXS_LAYER_CONV;
    l.input = input;
    l.filters = filters;
    l.kernel = kernel;
    l.stride = stride;
    l.padding = padding;
    return l;
}
inline fxs_layer relu() {
    fxs_layer l{};
    l.kind = FXS_LAYER_RELU;
    return l;
}
inline fxs_layer square() {
    fxs_layer l{};
    l.kind = FXS_LAYER_SQUARE;
    return l;
}
inline fxs_layer mean_pool(const fxs_image &input, std::size_t window) {
    fxs_layer l{};
    l.kind = FXS_LAYER_MEAN_POOL;
    l.input = input;
    l.kernel = window;
    return l;
}
inline fxs_layer max_pool(const fxs_image &input, std::size_t window, std::size_t stride) {
    fxs_layer l{};
    l.kind = FXS_LAYER_MAX_POOL;
    l.input = input;
    l.kernel = window;
    l.stride = stride;
    return l;
}

// A network's public architecture: `input` values per row, then the layers.
struct Network {
    std::size_t input = 0;
    std::vector<fxs_layer> layers;
    fxs_network get() const noexcept {
        fxs_network n{};
        n.input = input;
        n.layers = layers.data();
        n.n_layers = layers.size();
        return n;
    }
    // The width of the output rows.
    std::size_t output_width() const {
        fxs_network n = get();
        std::size_t w = 0;
        check(fxs_network_info(&n, &w, nullptr));
        return w;
    }
    // The number of weights the model owner passes.
    std::size_t weights_len() const {
        fxs_network n = get();
        std::size_t w = 0;
        check(fxs_network_info(&n, nullptr, &w));
        return w;
    }
};

// The public initial weights of an MLP with layer widths `sizes` for `seed` (fxs_mlp_init).
inline std::vector<double> mlp_init(const std::vector<std::size_t> &sizes, std::uint64_t seed) {
    std::size_t n = 0;
    for (std::size_t l = 0; l + 1 < sizes.size(); l++) n += (sizes[l] + 1) * sizes[l + 1];
    std::vector<double> w(n);
    check(fxs_mlp_init(sizes.data(), sizes.size(), seed, w.data(), w.size()));
    return w;
}

// A Bristol Fashion circuit (owning, move-only; read-only once parsed). A malformed circuit
// throws fxs::Error with FXS_STATUS_BAD_CIRCUIT and the line number in what().
class Circuit {
public:
    explicit Circuit(const std::string &text) {
        fxs_circuit *raw = nullptr;
        check(fxs_circuit_parse(reinterpret_cast<const std::uint8_t *>(text.data()), text.size(),
                                &raw));
        p_.reset(raw);
    }
    const fxs_circuit *get() const noexcept { return p_.get(); }
    fxs_circuit_info info() const {
        fxs_circuit_info i{};
        check(fxs_circuit_get_info(p_.get(), &i));
        return i;
    }
    // Plaintext evaluation: all input bits (one 0/1 byte each) to all output bits.
    std::vector<std::uint8_t> eval(const std::vector<std::uint8_t> &inputs) const {
        std::vector<std::uint8_t> out(info().output_bits);
        check(fxs_circuit_eval(p_.get(), inputs.data(), inputs.size(), out.data(), out.size()));
        return out;
    }

private:
    std::unique_ptr<fxs_circuit, detail::CircuitFree> p_;
};

// One party's shares of a secret matrix (owning, move-only).
class Shares {
public:
    explicit Shares(fxs_shares *raw) : p_(raw) {}
    fxs_shares *get() const noexcept { return p_.get(); }
    std::size_t rows() const { return shape().first; }
    std::size_t cols() const { return shape().second; }
    std::size_t size() const { return rows() * cols(); }
    std::pair<std::size_t, std::size_t> shape() const {
        std::size_t r = 0, c = 0;
        check(fxs_shares_shape(p_.get(), &r, &c));
        return {r, c};
    }
    Shares transpose() const {
        fxs_shares *out = nullptr;
        check(fxs_shares_transpose(p_.get(), &out));
        return Shares(out);
    }
    Shares reshape(std::size_t rows, std::size_t cols) const {
        fxs_shares *out = nullptr;
        check(fxs_shares_reshape(p_.get(), rows, cols, &out));
        return Shares(out);
    }

private:
    std::unique_ptr<fxs_shares, detail::SharesFree> p_;
};

// A link to one data owner (server side).
class Link {
public:
    explicit Link(const fxs_transport &t, std::size_t max_frame = 0) {
        fxs_link *raw = nullptr;
        check(fxs_link_new(&t, max_frame, &raw));
        p_.reset(raw);
    }
    fxs_link *get() const noexcept { return p_.get(); }

private:
    std::unique_ptr<fxs_link, detail::LinkFree> p_;
};

// A computing party (owning, move-only). Every method throws fxs::Error on failure. An argument
// error (status 100-199) is found before anything is sent and leaves the party usable; after a
// failure in communication the party is poisoned and further calls throw FXS_STATUS_POISONED.
class Party {
public:
    explicit Party(const fxs_party_config &config) : role_(config.role) {
        fxs_party *raw = nullptr;
        check(fxs_party_new(&config, &raw));
        p_.reset(raw);
    }
    fxs_party *get() const noexcept { return p_.get(); }
    // FXS_ROLE_P0 or FXS_ROLE_P1.
    std::uint32_t role() const noexcept { return role_; }

    // Defaults for a configuration (role 0, Z_2^64, 16 fractional bits, local truncation).
    static fxs_party_config default_config() {
        fxs_party_config c{};
        check(fxs_party_config_init(&c));
        return c;
    }

    Shares share_input(const std::vector<double> &values, std::size_t rows, std::size_t cols) {
        if (values.size() != rows * cols) throw std::invalid_argument("values.size() != rows * cols");
        return make([&](fxs_shares **o) {
            return fxs_party_share_input(get(), values.data(), rows, cols, o);
        });
    }
    Shares share_input(const std::vector<double> &values) {
        return share_input(values, values.size(), 1);
    }
    Shares receive_input(std::size_t rows, std::size_t cols = 1) {
        return make([&](fxs_shares **o) { return fxs_party_receive_input(get(), rows, cols, o); });
    }
    std::vector<double> reveal(const Shares &x) {
        std::vector<double> out(x.size());
        check(fxs_party_reveal(get(), x.get(), out.data(), out.size()));
        return out;
    }

    Shares add(const Shares &x, const Shares &y) { return op(fxs_party_add, x, y); }
    Shares sub(const Shares &x, const Shares &y) { return op(fxs_party_sub, x, y); }
    Shares mul(const Shares &x, const Shares &y) { return op(fxs_party_mul, x, y); }
    // The ring product without truncation (integers; twice the fractional bits otherwise).
    Shares mul_integer(const Shares &x, const Shares &y) { return op(fxs_party_mul_integer, x, y); }
    Shares matmul(const Shares &x, const Shares &y) { return op(fxs_party_matmul, x, y); }
    Shares dot(const Shares &x, const Shares &y) { return op(fxs_party_dot, x, y); }
    Shares neg(const Shares &x) {
        return make([&](fxs_shares **o) { return fxs_party_neg(get(), x.get(), o); });
    }
    Shares square(const Shares &x) {
        return make([&](fxs_shares **o) { return fxs_party_square(get(), x.get(), o); });
    }
    Shares add_public(const Shares &x, double c) {
        return make([&](fxs_shares **o) { return fxs_party_add_public(get(), x.get(), c, o); });
    }
    Shares mul_public(const Shares &x, double c) {
        return make([&](fxs_shares **o) { return fxs_party_mul_public(get(), x.get(), c, o); });
    }
    Shares mul_public_integer(const Shares &x, std::int64_t c) {
        return make([&](fxs_shares **o) {
            return fxs_party_mul_public_integer(get(), x.get(), c, o);
        });
    }
    Shares truncate(const Shares &x, std::uint32_t bits) {
        return make([&](fxs_shares **o) { return fxs_party_truncate(get(), x.get(), bits, o); });
    }

    // The non-linear layer (garbled circuits; one round trip each).
    Shares relu(const Shares &x) { return op(fxs_party_relu, x); }
    Shares drelu(const Shares &x) { return op(fxs_party_drelu, x); }
    Shares sigmoid_piecewise(const Shares &x) { return op(fxs_party_sigmoid_piecewise, x); }
    Shares sigmoid(const Shares &x) { return op(fxs_party_sigmoid, x); }
    Shares max(const Shares &x) { return op(fxs_party_max, x); }
    Shares relu_softmax(const Shares &x) { return op(fxs_party_relu_softmax, x); }
    // The linear interpolation through (knots[i], values[i]), constant beyond the ends.
    Shares piecewise_linear(const Shares &x, const std::vector<double> &knots,
                            const std::vector<double> &values) {
        if (knots.size() != values.size())
            throw std::invalid_argument("knots.size() != values.size()");
        return make([&](fxs_shares **o) {
            return fxs_party_piecewise_linear(get(), x.get(), knots.data(), values.data(),
                                              knots.size(), o);
        });
    }
    Shares less_than(const Shares &x, const Shares &y) { return op(fxs_party_less_than, x, y); }
    // (relu, derivative) and (max, index).
    std::pair<Shares, Shares> relu_with_derivative(const Shares &x) {
        return op2(fxs_party_relu_with_derivative, x);
    }
    std::pair<Shares, Shares> argmax(const Shares &x) { return op2(fxs_party_argmax, x); }
    Shares max_pool(const Shares &x, const fxs_pool2d &pool) {
        return make([&](fxs_shares **o) { return fxs_party_max_pool(get(), x.get(), &pool, o); });
    }
    Shares truncate_exact(const Shares &x, std::uint32_t bits) {
        return make([&](fxs_shares **o) {
            return fxs_party_truncate_exact(get(), x.get(), bits, o);
        });
    }

    // Machine learning. SGD on shares (both parties): the (d + 1) x 1 weights, the bias last.
    // `on_progress` (optional) is called after each epoch; an exception it throws is rethrown
    // when training ends.
    Shares train_glm(const Shares &x, const Shares &y, const fxs_sgd_params &params,
                     std::uint32_t model, const ProgressFn &on_progress = {}) {
        detail::Progress progress(on_progress);
        Shares w = make([&](fxs_shares **o) {
            return fxs_party_train_glm(get(), x.get(), y.get(), &params, model,
                                       progress.function(), progress.user(), o);
        });
        progress.rethrow();
        return w;
    }
    // A multilayer perceptron with layer widths `sizes` (input first) on inputs `x` and one-hot
    // targets `y`, from the public initial weights `init` (all layers one after the other) or,
    // if `init` is empty, those of fxs::mlp_init(sizes, params.init_seed). Returns each
    // layer's (sizes[l] + 1) x sizes[l + 1] weights, the bias last row.
    std::vector<Shares> train_mlp(const Shares &x, const Shares &y,
                                  const std::vector<std::size_t> &sizes,
                                  const fxs_mlp_params &params,
                                  const std::vector<double> &init = {},
                                  const ProgressFn &on_progress = {}) {
        detail::Progress progress(on_progress);
        std::vector<fxs_shares *> raw(sizes.empty() ? 0 : sizes.size() - 1, nullptr);
        fxs_status st = fxs_party_train_mlp(
            get(), x.get(), y.get(), sizes.data(), sizes.size(), init.empty() ? nullptr : init.data(),
            init.size(), &params, progress.function(), progress.user(), raw.data(), raw.size());
        std::vector<Shares> w;
        for (fxs_shares *r : raw) w.emplace_back(r);  // owns them whatever happens next
        check(st);
        progress.rethrow();
        return w;
    }
    // Oblivious inference of a dense ReLU network: the model owner passes the weights (all
    // layers one after the other) and gets an empty vector; the client passes `rows` input rows
    // and gets their classes.
    std::vector<std::size_t> classify_dense_owner(const std::vector<std::size_t> &sizes,
                                                  const std::vector<double> &weights,
                                                  std::size_t rows) {
        check(fxs_party_classify_dense(get(), role(), sizes.data(), sizes.size(), weights.data(),
                                       weights.size(), nullptr, rows, nullptr, 0));
        return {};
    }
    std::vector<std::size_t> classify_dense_client(const std::vector<std::size_t> &sizes,
                                                   const std::vector<double> &input,
                                                   std::size_t rows) {
        if (sizes.empty() || input.size() != rows * sizes[0])
            throw std::invalid_argument("input.size() != rows * sizes[0]");
        std::vector<std::size_t> classes(rows);
        check(fxs_party_classify_dense(get(), role() ^ 1u, sizes.data(), sizes.size(), nullptr, 0,
                                       input.data(), rows, classes.data(), classes.size()));
        return classes;
    }
    // The same for any network (dense, convolution, ReLU, square, mean and max pooling).
    void classify_owner(const Network &net, const std::vector<double> &weights, std::size_t rows) {
        fxs_network n = net.get();
        check(fxs_party_classify(get(), role(), &n, weights.data(), weights.size(), nullptr, rows,
                                 nullptr, 0));
    }
    std::vector<std::size_t> classify_client(const Network &net, const std::vector<double> &input,
                                             std::size_t rows) {
        if (input.size() != rows * net.input)
            throw std::invalid_argument("input.size() != rows * net.input");
        fxs_network n = net.get();
        std::vector<std::size_t> classes(rows);
        check(fxs_party_classify(get(), role() ^ 1u, &n, nullptr, 0, input.data(), rows,
                                 classes.data(), classes.size()));
        return classes;
    }
    // The network's output without the argmax, as shares on both sides (rows x output width).
    Shares forward_owner(const Network &net, const std::vector<double> &weights, std::size_t rows) {
        fxs_network n = net.get();
        return make([&](fxs_shares **o) {
            return fxs_party_forward(get(), role(), &n, weights.data(), weights.size(), nullptr,
                                     rows, o);
        });
    }
    Shares forward_client(const Network &net, const std::vector<double> &input, std::size_t rows) {
        if (input.size() != rows * net.input)
            throw std::invalid_argument("input.size() != rows * net.input");
        fxs_network n = net.get();
        return make([&](fxs_shares **o) {
            return fxs_party_forward(get(), role() ^ 1u, &n, nullptr, 0, input.data(), rows, o);
        });
    }

    // Runs a circuit with the peer; returns the output bits this party learns (empty if none).
    std::vector<std::uint8_t> run_circuit(const Circuit &c, const std::vector<std::uint32_t> &owners,
                                          const std::vector<std::uint8_t> &inputs,
                                          std::uint32_t reveal) {
        std::vector<std::uint8_t> out(c.info().output_bits);
        std::size_t written = 0;
        check(fxs_party_run_circuit(get(), c.get(), owners.data(), owners.size(), inputs.data(),
                                    inputs.size(), reveal, out.data(), out.size(), &written));
        out.resize(written);
        return out;
    }
    // This party's XOR shares of bits (e.g. from FXS_REVEAL_SHARED) as shares of 0.0 / 1.0.
    Shares bits_to_shares(const std::vector<std::uint8_t> &bits) {
        return make([&](fxs_shares **o) {
            return fxs_party_bits_to_shares(get(), bits.data(), bits.size(), o);
        });
    }

    // Server side of data-owner input and output.
    Shares receive_owner_input(Link &link, std::size_t rows, std::size_t cols = 1) {
        return make([&](fxs_shares **o) {
            return fxs_party_receive_owner_input(get(), link.get(), rows, cols, o);
        });
    }
    void send_owner_output(Link &link, const Shares &x) {
        check(fxs_party_send_owner_output(get(), link.get(), x.get()));
    }

    // Online traffic with the peer (inputs, openings, products, garbled circuits).
    fxs_stats peer_stats() const {
        fxs_stats s{};
        check(fxs_party_stats(get(), &s, nullptr));
        return s;
    }
    // Traffic of the offline phase (the dealer's connection, or the OTs with the peer).
    fxs_stats offline_stats() const {
        fxs_stats s{};
        check(fxs_party_stats(get(), nullptr, &s));
        return s;
    }

private:
    template <class F>
    static Shares make(F &&f) {
        fxs_shares *out = nullptr;
        check(f(&out));
        return Shares(out);
    }
    using BinaryOp = fxs_status (*)(fxs_party *, const fxs_shares *, const fxs_shares *,
                                    fxs_shares **);
    Shares op(BinaryOp f, const Shares &x, const Shares &y) {
        return make([&](fxs_shares **o) { return f(get(), x.get(), y.get(), o); });
    }
    using UnaryOp = fxs_status (*)(fxs_party *, const fxs_shares *, fxs_shares **);
    Shares op(UnaryOp f, const Shares &x) {
        return make([&](fxs_shares **o) { return f(get(), x.get(), o); });
    }
    using PairOp = fxs_status (*)(fxs_party *, const fxs_shares *, fxs_shares **, fxs_shares **);
    std::pair<Shares, Shares> op2(PairOp f, const Shares &x) {
        fxs_shares *a = nullptr, *b = nullptr;
        check(f(get(), x.get(), &a, &b));
        return {Shares(a), Shares(b)};
    }

    std::uint32_t role_;
    std::unique_ptr<fxs_party, detail::PartyFree> p_;
};

// Runs the dealer until both parties close their connections.
inline void dealer_serve(const std::uint8_t (&seed)[32], const fxs_transport &to_party0,
                         const fxs_transport &to_party1) {
    check(fxs_dealer_serve(seed, &to_party0, &to_party1, nullptr, nullptr));
}

}  // namespace fxs

#endif
