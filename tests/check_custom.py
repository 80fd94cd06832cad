"""Registered custom objects for the check-precision fixtures (Keras 3): a loss, a metric and an
activation function, and a layer. Importing this module registers them, as a user's code would."""

import keras


@keras.saving.register_keras_serializable()  # registered as "Custom>my_loss"
def my_loss(y_true, y_pred):
    return keras.ops.mean(keras.ops.abs(y_true - y_pred))


@keras.saving.register_keras_serializable(package="pkg")
def my_metric(y_true, y_pred):
    return keras.ops.mean(y_true - y_pred)


@keras.saving.register_keras_serializable(package="pkg")
def my_act(x):
    return keras.ops.relu(x) * 2.0


@keras.saving.register_keras_serializable(package="pkg")
class MyLayer(keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), name="w")

    def call(self, x):
        return x * self.w
