"""HiFi-GAN vocoder: generator, discriminators, losses, checkpoints and the inference API."""
