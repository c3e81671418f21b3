import numpy as np

def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    next_w = w - config['learning_rate'] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    lr, mu = config['learning_rate'], config['momentum']
    velocity = config.get('velocity', np.zeros_like(w))
    velocity = mu * velocity - lr * dw
    next_w = w + velocity
    config['velocity'] = velocity
    return next_w, config


def rmsprop(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('cache', np.zeros_like(w))
    lr, decay, eps = config['learning_rate'], config['decay_rate'], config['epsilon']
    cache = decay * config['cache'] + (1 - decay) * dw * dw
    next_w = w - lr * dw / (np.sqrt(cache) + eps)
    config['cache'] = cache
    return next_w, config


def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('m', np.zeros_like(w))
    config.setdefault('v', np.zeros_like(w))
    config.setdefault('t', 0)
    lr, beta1, beta2, eps = config['learning_rate'], config['beta1'], config['beta2'], config['epsilon']
    t = config['t'] + 1
    m = beta1 * config['m'] + (1 - beta1) * dw
    v = beta2 * config['v'] + (1 - beta2) * dw ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    next_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    config['m'] = m
    config['v'] = v
    config['t'] = t
    return next_w, config
