from __future__ import print_function, division
import pickle

from cs231n import optim


class Solver(object):
    def __init__(self, model, data, update_rule="sgd", optim_config=None):
        self.model, self.data = model, data
        self.update_rule = getattr(optim, update_rule)
        self.optim_config = optim_config or {}
