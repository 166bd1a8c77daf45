"""Functions written the way course assignments and numerical code write them (CS231n-style layers and
losses, numerical snippets): the reader's test that flatgen takes numpy as people write it.

They are not written to suit flatgen: `.dot` and `reshape(N, -1)`, integer labels picked with
np.arange, `probs /= ...`, caches returned by helpers, loops with `//` and np.pad, masks passed in.
EXAMPLES gives each function's sample arguments (the module is specialised to their shapes) and, where
some parameters are data the course passes as floats (a dropout mask), the parameters to differentiate.
NEEDS_ISSUE_14 lists the functions that need more of Python than flatgen reads yet, with the reason.
"""

import numpy as np

# -- layers (assignment 2) -----------------------------------------------------------------------------------


def affine_forward(x, w, b):
    N = x.shape[0]
    x_row = x.reshape(N, -1)  # (N, D)
    out = x_row.dot(w) + b
    cache = (x, w, b)
    return out, cache


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out


def batchnorm_forward(x, gamma, beta):
    eps = 1e-5
    sample_mean = np.mean(x, axis=0)
    sample_var = np.var(x, axis=0)
    x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
    out = gamma * x_hat + beta
    return out


def layernorm_forward(x, gamma, beta):
    eps = 1e-5
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    x_hat = (x - mu) / np.sqrt(var + eps)
    out = x_hat * gamma + beta
    return out


def spatial_batchnorm_forward(x, gamma, beta):
    N, C, H, W = x.shape
    x_flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    mu = x_flat.mean(axis=0)
    var = x_flat.var(axis=0)
    out_flat = gamma * (x_flat - mu) / np.sqrt(var + 1e-5) + beta
    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out


def dropout_forward(x, mask):
    """Inverted dropout in training mode; mask = (np.random.rand(*x.shape) < p) / p, made by the caller."""
    out = x * mask
    return out


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


STRIDE = 2
PAD = 1


def conv_forward_strided(x, w, b):
    """The same convolution with its stride and padding fixed for the whole model."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * PAD - HH) // STRIDE
    W_out = 1 + (W + 2 * PAD - WW) // STRIDE
    x_pad = np.pad(x, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * STRIDE, j * STRIDE
                    out[n, f, i, j] = np.sum(x_pad[n, :, hs:hs + HH, ws:ws + WW] * w[f]) + b[f]
    return out


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = np.max(window, axis=(2, 3))
    return out


def max_pool_2x2(x):
    N, C, H, W = x.shape
    H_out, W_out = H // 2, W // 2
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(2, 3))
    return out


# -- losses (assignment 1) -----------------------------------------------------------------------------------


def svm_loss_naive(W, X, y, reg):
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
    loss /= num_train
    loss += reg * np.sum(W * W)
    return loss


def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    correct_class_scores = scores[np.arange(num_train), y].reshape(-1, 1)
    margins = np.maximum(0, scores - correct_class_scores + 1)
    margins[np.arange(num_train), y] = 0
    loss = np.sum(margins) / num_train
    loss += reg * np.sum(W * W)
    return loss


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)  # numeric stability
        p = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(p[y[i]])
    loss /= num_train
    loss += 0.5 * reg * np.sum(W * W)
    return loss


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[range(num_train), y]).sum() / num_train
    loss += 0.5 * reg * np.sum(W ** 2)
    return loss


def svm_loss(x, y):
    N = x.shape[0]
    correct_class_scores = x[np.arange(N), y]
    margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    return loss


def softmax_loss(x, y):
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    return loss


def two_layer_net_loss(X, y, W1, b1, W2, b2, reg):
    N, D = X.shape
    h1 = np.maximum(0, X.dot(W1) + b1)
    scores = h1.dot(W2) + b2
    exp_scores = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = np.sum(-np.log(probs[range(N), y])) / N
    reg_loss = reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return data_loss + reg_loss


def fc_net_loss(X, y, params):
    """A network whose weights come in a dict, as the course's FullyConnectedNet keeps them."""
    h = np.maximum(0, X.dot(params["W1"]) + params["b1"])
    scores = h.dot(params["W2"]) + params["b2"]
    loss = softmax_loss(scores, y)
    for name in ["W1", "W2"]:
        loss += 0.5 * 0.1 * np.sum(params[name] ** 2)
    return loss


# -- recurrent networks (assignment 3) -------------------------------------------------------------------------


def word_embedding_forward(x, W):
    out = W[x]
    return out


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
    return out


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    return loss


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    return next_h


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h = h0
    for t in range(T):
        next_h = np.tanh(x[:, t, :].dot(Wx) + prev_h.dot(Wh) + b)
        h[:, t, :] = next_h
        prev_h = next_h
    return h


def rnn_forward_list(x, h0, Wx, Wh, b):
    """The same, collecting the states in a list and stacking them."""
    hs = []
    h = h0
    for t in range(x.shape[1]):
        h = rnn_step_forward(x[:, t, :], h, Wx, Wh, b)
        hs.append(h)
    return np.stack(hs, axis=1)


def sigmoid(x):
    """A numerically stable version of the logistic sigmoid function."""
    pos_mask = x >= 0
    neg_mask = x < 0
    z = np.zeros_like(x)
    z[pos_mask] = np.exp(-x[pos_mask])
    z[neg_mask] = np.exp(x[neg_mask])
    top = np.ones_like(x)
    top[neg_mask] = z[neg_mask]
    return top / (1 + z)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    N, H = prev_h.shape
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c


def lstm_step_loss(x, prev_h, prev_c, Wx, Wh, b, dh, dc):
    """The step's outputs read out against upstream gradients, as the course checks them."""
    next_h, next_c = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    return np.sum(next_h * dh) + np.sum(next_c * dc)


# -- attention -----------------------------------------------------------------------------------------------------


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(Q, K, V):
    d = Q.shape[-1]
    scores = Q @ K.T / np.sqrt(d)
    weights = softmax(scores)
    return weights @ V


def causal_self_attention(x, Wq, Wk, Wv, mask):
    """mask[i, j] is True where position i may attend to position j (j <= i)."""
    q, k, v = x @ Wq, x @ Wk, x @ Wv
    scores = q @ k.T / np.sqrt(q.shape[1])
    scores = np.where(mask, scores, -1e9)
    return softmax(scores) @ v


def batched_attention(Q, K, V):
    scores = np.matmul(Q, K.transpose(0, 2, 1)) / np.sqrt(Q.shape[2])
    return np.matmul(softmax(scores), V)


# -- numerical code ----------------------------------------------------------------------------------------------


def linear_regression_mse(X, w, b, y):
    pred = X.dot(w) + b
    return np.mean((pred - y) ** 2)


def ridge_solution_error(X, y, lam):
    """The ridge estimate from the normal equations, and its training error."""
    D = X.shape[1]
    A = X.T.dot(X) + lam * np.eye(D)
    w = np.linalg.solve(A, X.T.dot(y))
    return np.sum((X.dot(w) - y) ** 2)


def gaussian_nll(x, mu, S):
    sign, logdet = np.linalg.slogdet(S)
    r = x - mu
    return 0.5 * (logdet + r.dot(np.linalg.solve(S, r)) + len(x) * np.log(2 * np.pi))


def cosine_similarity(a, b):
    return a.dot(b) / (np.linalg.norm(a) * np.linalg.norm(b))


def l2_distances(X, Y):
    """kNN's distance matrix without loops: |x|^2 + |y|^2 - 2 x.y."""
    sq = np.sum(X ** 2, axis=1, keepdims=True) + np.sum(Y ** 2, axis=1) - 2 * X.dot(Y.T)
    dists = np.sqrt(sq)
    return dists.sum()


def pca_reconstruction_error(X, W):
    Z = X.dot(W)
    X_rec = Z.dot(W.T)
    return np.linalg.norm(X - X_rec) ** 2


def logistic_regression_loss(w, b, X, y):
    """y in {-1, +1}."""
    z = X.dot(w) + b
    return np.mean(np.log(1 + np.exp(-y * z)))


def onehot_cross_entropy(x, y):
    N, C = x.shape
    Y = np.eye(C)[y]
    log_probs = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    return -np.sum(Y * log_probs) / N


def polynomial_regression(x, y, w):
    F = np.stack([np.ones_like(x), x, x ** 2, x ** 3], axis=1)
    return np.mean((F.dot(w) - y) ** 2)


def gradient_descent_steps(w, X, y):
    """Three steps of gradient descent on least squares, then the loss: a gradient through training."""
    lr = 0.05
    for step in range(3):
        grad = X.T.dot(X.dot(w) - y) / X.shape[0]
        w = w - lr * grad
    return 0.5 * np.mean((X.dot(w) - y) ** 2)


def embedding_bag(W, idx, v):
    """Average the embeddings of each bag of word indices (repeats in a bag count twice), then score."""
    bags = W[idx].mean(axis=1)
    return np.sum(np.tanh(bags.dot(v)))


def huber_loss(pred, y):
    delta = 1.0
    r = np.abs(pred - y)
    return np.mean(np.where(r < delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)))


def max_response(x):
    """Each row's largest entry, picked with argmax (a max-pooling over features)."""
    idx = np.argmax(x, axis=1)
    return np.sum(x[np.arange(x.shape[0]), idx] ** 2)


def kl_divergence(logits_p, logits_q):
    p = softmax(logits_p)
    log_p = np.log(p)
    log_q = logits_q - np.log(np.sum(np.exp(logits_q), axis=-1, keepdims=True))
    return np.sum(p * (log_p - log_q))


def feature_concat_regression(x, w, y):
    feats = np.concatenate([x, x ** 2, np.sin(x)], axis=1)
    return np.mean((feats.dot(w) - y) ** 2)


def masked_mean(x, lengths):
    """The mean over each sequence's valid positions: position t counts while t < its length."""
    T = x.shape[1]
    valid = np.arange(T) < lengths[:, None]
    return x[valid].mean()


def pick_columns(x, w):
    cols = x[:, [0, 2, 2]]
    return np.sum(cols.dot(w) ** 2)


# -- examples ---------------------------------------------------------------------------------------------------

_R = np.random.default_rng(14)


def _r(*shape):
    return _R.uniform(-1.0, 1.0, size=shape)


def _spd(n):
    a = _r(n, n)
    return a @ a.T + n * np.eye(n)


_MASK = np.tril(np.ones((4, 4), dtype=bool))
EXAMPLES = {  # name: (arguments, {options})
    "affine_forward": ((_r(2, 3, 2), _r(6, 4), _r(4)), {}),
    "relu_forward": ((_r(3, 4),), {}),
    "affine_relu_forward": ((_r(2, 2, 3), _r(6, 4), _r(4)), {}),
    "batchnorm_forward": ((_r(5, 3), _r(3), _r(3)), {}),
    "layernorm_forward": ((_r(3, 5), _r(5), _r(5)), {}),
    "spatial_batchnorm_forward": ((_r(2, 3, 2, 2), _r(3), _r(3)), {}),
    "dropout_forward": ((_r(3, 4), (_R.random((3, 4)) < 0.5) / 0.5), {"wrt": ("x",)}),
    "conv_forward_naive": ((_r(1, 2, 4, 4), _r(2, 2, 3, 3), _r(2), {"stride": 1, "pad": 1}), {}),
    "conv_forward_strided": ((_r(1, 2, 4, 4), _r(2, 2, 3, 3), _r(2)), {}),
    "max_pool_forward_naive": ((_r(1, 2, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2}), {}),
    "max_pool_2x2": ((_r(2, 2, 4, 4),), {}),
    "svm_loss_naive": ((_r(4, 3), _r(5, 4), np.array([0, 2, 1, 2, 0]), 0.1), {}),
    "svm_loss_vectorized": ((_r(4, 3), _r(5, 4), np.array([0, 2, 1, 2, 0]), 0.1), {}),
    "softmax_loss_naive": ((_r(4, 3), _r(5, 4), np.array([0, 2, 1, 2, 0]), 0.1), {}),
    "softmax_loss_vectorized": ((_r(4, 3), _r(5, 4), np.array([0, 2, 1, 2, 0]), 0.1), {}),
    "svm_loss": ((_r(5, 3), np.array([0, 2, 1, 2, 2])), {}),
    "softmax_loss": ((_r(5, 3), np.array([0, 2, 1, 2, 2])), {}),
    "two_layer_net_loss": ((_r(4, 3), np.array([1, 0, 1, 1]), _r(3, 5), _r(5), _r(5, 2), _r(2), 0.05), {}),
    "fc_net_loss": ((_r(4, 3), np.array([1, 0, 2, 1]),
                     {"W1": _r(3, 5), "b1": _r(5), "W2": _r(5, 3), "b2": _r(3)}), {}),
    "word_embedding_forward": ((np.array([[0, 3, 3], [1, 0, 3]]), _r(4, 3)), {}),
    "temporal_affine_forward": ((_r(2, 3, 4), _r(4, 2), _r(2)), {}),
    "temporal_softmax_loss": ((_r(2, 3, 4), np.array([[0, 3, 3], [1, 0, 2]]),
                               np.array([[True, True, False], [True, False, False]])), {"wrt": ("x",)}),
    "rnn_step_forward": ((_r(2, 3), _r(2, 4), _r(3, 4), _r(4, 4), _r(4)), {}),
    "rnn_forward": ((_r(2, 3, 3), _r(2, 4), _r(3, 4), _r(4, 4), _r(4)), {}),
    "rnn_forward_list": ((_r(2, 3, 3), _r(2, 4), _r(3, 4), _r(4, 4), _r(4)), {}),
    "lstm_step_loss": ((_r(2, 3), _r(2, 2), _r(2, 2), _r(3, 8), _r(2, 8), _r(8), _r(2, 2), _r(2, 2)), {}),
    "attention": ((_r(3, 4), _r(5, 4), _r(5, 2)), {}),
    "causal_self_attention": ((_r(4, 3), _r(3, 2), _r(3, 2), _r(3, 2), _MASK), {"wrt": ("x", "Wq", "Wk", "Wv")}),
    "batched_attention": ((_r(2, 3, 4), _r(2, 3, 4), _r(2, 3, 2)), {}),
    "linear_regression_mse": ((_r(6, 3), _r(3), 0.3, _r(6)), {}),
    "ridge_solution_error": ((_r(6, 3), _r(6), 0.5), {}),
    "gaussian_nll": ((_r(3), _r(3), _spd(3)), {}),
    "cosine_similarity": ((_r(4), _r(4)), {}),
    "l2_distances": ((_r(3, 2), _r(4, 2)), {}),
    "pca_reconstruction_error": ((_r(5, 3), _r(3, 2)), {}),
    "logistic_regression_loss": ((_r(3), 0.2, _r(6, 3), np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])), {"wrt": ("w", "b", "X")}),
    "onehot_cross_entropy": ((_r(4, 3), np.array([2, 0, 0, 1])), {}),
    "polynomial_regression": ((_r(5), _r(5), _r(4)), {}),
    "gradient_descent_steps": ((_r(3), _r(6, 3), _r(6)), {}),
    "embedding_bag": ((_r(5, 3), np.array([[0, 4, 4], [2, 2, 1]]), _r(3)), {}),
    "huber_loss": ((np.array([0.3, -1.9, 2.4, 0.1]), np.array([0.1, 0.2, -0.3, 0.0])), {}),
    "max_response": ((_r(4, 3),), {}),
    "kl_divergence": ((_r(2, 4), _r(2, 4)), {}),
    "feature_concat_regression": ((_r(4, 2), _r(6), _r(4)), {}),
    "masked_mean": ((_r(3, 4), np.array([2, 4, 1])), {"wrt": ("x",)}),
    "pick_columns": ((_r(4, 3), _r(3)), {}),
}

# Functions that need more of Python than flatgen reads yet (issue 14), and why; tests/test_course_corpus.py
# checks each is refused with that reason, precisely.
NEEDS_ISSUE_14: dict = {}
