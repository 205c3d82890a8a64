"""Normalization of any picture into a Fashion-MNIST-like 28x28 image, in TensorFlow ops.

Fashion-MNIST images are grayscale, a light garment on black, trimmed to the
garment and centred with the longest side fitted to 28 pixels. Photos from
web shops and phones are large, colourful, on light or busy backgrounds and
off-centre. :func:`fashion_mnist_like` brings both to the same form, in
TensorFlow ops so that it runs inside Transform and therefore inside every
served model.

* :mod:`.picture`: which path each image takes (:func:`fashion_mnist_like`,
  :func:`fashion_mnist_like_batch`);
* :mod:`.direct`: images already light on black, close to the identity on
  Fashion-MNIST; Transform, the Evaluator and the served models run
  :func:`light_on_black_batch` on every batch of 28x28 light-on-black images,
  about nine times faster than image by image;
* :mod:`.photo` (with :mod:`.background`, :mod:`.glare`, :mod:`.foreground`):
  photos, whose object is found first; the training stream normalizes the
  photos it renders as batches, four times faster than one by one
  (``python bench/photo_stream_bench.py``), with the served graph's pixels;
* :mod:`.ops`: the generic image ops both use;
* :mod:`.parameters`: every tuning constant, as one frozen :class:`Parameters`
  that each function takes (default :data:`DEFAULT`), so a bench can vary it.

Every path is batched and one image is a batch of one, so an image gets the
same pixels whatever else is in its batch.
"""

from imagepipe.components.normalize.background import photo_background
from imagepipe.components.normalize.direct import light_on_black, light_on_black_batch
from imagepipe.components.normalize.ops import first_and_last, to_gray
from imagepipe.components.normalize.parameters import DEFAULT, JOINED, Parameters
from imagepipe.components.normalize.photo import photo_object, photo_objects
from imagepipe.components.normalize.picture import fashion_mnist_like, fashion_mnist_like_batch

__all__ = ["DEFAULT", "JOINED", "Parameters", "fashion_mnist_like", "fashion_mnist_like_batch",
           "first_and_last", "light_on_black", "light_on_black_batch", "photo_background",
           "photo_object", "photo_objects", "to_gray"]
