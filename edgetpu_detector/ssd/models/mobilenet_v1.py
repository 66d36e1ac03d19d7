"""MobileNet v1 with TF-slim's "SAME" padding, under ``keras.applications``' layer names.

Source: Howard et al., "MobileNets" (2017), table 1; TF-slim's ``mobilenet_v1.py`` as used by the TF Object
Detection API's ``ssd_mobilenet_v1`` feature extractor (``use_explicit_padding: false``: every convolution pads
"SAME"). ``keras.applications.MobileNet`` pads its stride-2 depthwise convolutions by ``(0, 1)`` and then
convolves "valid", which floors odd sizes: at 300x300 the stride-8 map is 75x75 and Keras gives 37x37 at
stride 16 where slim gives 38x38, and 18x18 instead of the model zoo's 19x19 SSD map. Here every convolution
pads "SAME", so the maps are ``ceil(size / stride)`` as in slim, while layer names (``conv1``, ``conv_dw_1``,
``conv_pw_1_bn``, ...) stay those of Keras, so Keras's ImageNet ``.h5`` files load by name.
"""
import keras

# (pointwise filters, depthwise stride) of blocks 1..13 (Howard et al., table 1)
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1))


def mobilenet_v1(image_size, alpha=1.0, weights=None):
    """Build MobileNet v1 without its classifier, with slim's "SAME" padding.

    Args:
      image_size: int, square input side in pixels.
      alpha: float, width multiplier (filters are ``int(filters * alpha)``, as in Keras).
      weights: ``None`` (random), ``"imagenet"`` (Keras's file, downloaded and cached by Keras) or a path to a
        Keras MobileNet v1 ``.h5`` file of the same alpha (e.g. ``mobilenet_2_5_224_tf_no_top.h5``).

    Returns:
      keras.Model mapping float32 [B, S, S, 3] in [-1, 1] to float32 [B, ceil(S/32), ceil(S/32),
      int(1024 * alpha)]; every intermediate layer is reachable by its Keras name (``conv_pw_11_relu``...).

    Raises:
      ValueError: a weights file that does not fit (Keras's message).
    """
    inputs = keras.Input((image_size, image_size, 3), name="input_layer")
    x = keras.layers.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="conv1_bn")(x)
    x = keras.layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(BLOCKS, start=1):
        x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                                         name=f"conv_dw_{block_id}")(x)
        x = keras.layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x)
        x = keras.layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
        x = keras.layers.Conv2D(int(filters * alpha), 1, padding="same", use_bias=False,
                                name=f"conv_pw_{block_id}")(x)
        x = keras.layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
        x = keras.layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)
    model = keras.Model(inputs, x, name=f"mobilenet_{alpha:0.2f}_{image_size}")
    if weights is not None:
        # Keras's own constructor reads (or downloads) the file; padding layers carry no weights, so the
        # weights copy across by layer name.
        reference = keras.applications.MobileNet(input_shape=(image_size, image_size, 3), alpha=alpha,
                                                 include_top=False, weights=weights)
        for layer in model.layers:
            if layer.weights:
                layer.set_weights(reference.get_layer(layer.name).get_weights())
    return model
