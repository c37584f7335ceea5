"""Retrieval: ranking, follow-ups, abstention, keyword search and answer assembly over an opened index."""
