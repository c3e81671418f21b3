"""Correct: grads accumulated with += into __init__'s zeros and cleared in place with zero_().

Right in float32; in float64 the grads keep __init__'s float32 dtype, which the float64 probe reports.
"""
import torch


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        """
        Args:
            linear_1_in_features: the in features of first linear layer
            linear_1_out_features: the out features of first linear layer
            linear_2_in_features: the in features of second linear layer
            linear_2_out_features: the out features of second linear layer
            f_function: string for the f function: relu | sigmoid | identity
            g_function: string for the g function: relu | sigmoid | identity
        """
        assert f_function in ("relu", "sigmoid", "identity")
        assert g_function in ("relu", "sigmoid", "identity")
        assert linear_1_out_features == linear_2_in_features
        self.f_function = f_function
        self.g_function = g_function
        self.parameters = dict(
            W1=torch.randn(linear_1_out_features, linear_1_in_features),
            b1=torch.randn(linear_1_out_features),
            W2=torch.randn(linear_2_out_features, linear_2_in_features),
            b2=torch.randn(linear_2_out_features),
        )
        self.grads = dict(
            dJdW1=torch.zeros(linear_1_out_features, linear_1_in_features),
            dJdb1=torch.zeros(linear_1_out_features),
            dJdW2=torch.zeros(linear_2_out_features, linear_2_in_features),
            dJdb2=torch.zeros(linear_2_out_features),
        )
        self.cache = dict()

    def forward(self, x):
        """
        Args:
            x: tensor shape (batch_size, linear_1_in_features)
        """
        with torch.no_grad():
            self.cache['x'] = x.clone()
            s1 = x.matmul(self.parameters['W1'].t()) + self.parameters['b1']
            self.cache['s1'] = s1
            if self.f_function == 'relu':
                z1 = torch.relu(s1)
            elif self.f_function == 'sigmoid':
                z1 = torch.sigmoid(s1)
            else:
                z1 = s1.clone()
            self.cache['z1'] = z1
            s2 = z1.matmul(self.parameters['W2'].t()) + self.parameters['b2']
            self.cache['s2'] = s2
            if self.g_function == 'relu':
                y_hat = torch.relu(s2)
            elif self.g_function == 'sigmoid':
                y_hat = torch.sigmoid(s2)
            else:
                y_hat = s2.clone()
            self.cache['y_hat'] = y_hat
        return y_hat

    def backward(self, dJdy_hat):
        """
        Args:
            dJdy_hat: The gradient tensor of shape (batch_size, linear_2_out_features)
        """
        with torch.no_grad():
            # g'(s2)
            if self.g_function == 'relu':
                gp = torch.zeros_like(self.cache['s2'])
                gp[self.cache['s2'] > 0] = 1.0
            elif self.g_function == 'sigmoid':
                gp = self.cache['y_hat'] * (1 - self.cache['y_hat'])
            else:
                gp = torch.ones_like(self.cache['s2'])
            dJds2 = dJdy_hat * gp

            self.grads['dJdW2'] += dJds2.t().matmul(self.cache['z1'])
            self.grads['dJdb2'] += dJds2.sum(0)

            dJdz1 = dJds2.matmul(self.parameters['W2'])
            if self.f_function == 'relu':
                fp = torch.zeros_like(self.cache['s1'])
                fp[self.cache['s1'] > 0] = 1.0
            elif self.f_function == 'sigmoid':
                fp = self.cache['z1'] * (1 - self.cache['z1'])
            else:
                fp = torch.ones_like(self.cache['s1'])
            dJds1 = dJdz1 * fp

            self.grads['dJdW1'] += dJds1.t().matmul(self.cache['x'])
            self.grads['dJdb1'] += dJds1.sum(0)

    def clear_grad_and_cache(self):
        for grad in self.grads:
            self.grads[grad].zero_()
        self.cache = dict()


def mse_loss(y, y_hat):
    """
    Args:
        y: the label tensor (batch_size, linear_2_out_features)
        y_hat: the prediction tensor (batch_size, linear_2_out_features)

    Return:
        J: scalar of loss
        dJdy_hat: The gradient tensor of shape (batch_size, linear_2_out_features)
    """
    with torch.no_grad():
        loss = torch.mean(torch.pow(y_hat - y, 2))
        dJdy_hat = 2 * (y_hat - y) / (len(y) * y.shape[1])
    return loss, dJdy_hat


def bce_loss(y, y_hat):
    """
    Args:
        y_hat: the prediction tensor
        y: the label tensor

    Return:
        loss: scalar of loss
        dJdy_hat: The gradient tensor of shape (batch_size, linear_2_out_features)
    """
    with torch.no_grad():
        eps = 1e-9
        loss = -torch.mean(y * torch.log(y_hat + eps) + (1 - y) * torch.log(1 - y_hat + eps))
        dJdy_hat = (-(y / (y_hat + eps)) + (1 - y) / (1 - y_hat + eps)) / (len(y) * y.shape[1])
    return loss, dJdy_hat
