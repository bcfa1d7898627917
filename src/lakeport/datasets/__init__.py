"""Datasets lakeport ships or loads: the Spotify 2023 sample generator and loaders, and any folder of files."""
