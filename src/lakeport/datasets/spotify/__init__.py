"""The Spotify Dataset 2023: its schema, the sample generator, the Kaggle loader and the Web API connector."""
