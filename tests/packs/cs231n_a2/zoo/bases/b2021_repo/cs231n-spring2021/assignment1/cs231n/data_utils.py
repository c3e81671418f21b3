from imageio import imread
import pickle


def load_pickle(f):
    return pickle.load(f, encoding="latin1")
