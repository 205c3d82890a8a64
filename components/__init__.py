"""What runs inside TFX: the ExampleGens, Transform, Trainer, Pusher and their settings."""
