"""The data outside TFX: reading Fashion-MNIST, scanning photo folders, class maps, splits."""
