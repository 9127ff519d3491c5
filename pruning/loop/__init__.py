"""The prune loop: score → select → mask → fine-tune, for one round or a schedule of rounds."""
