"""Service: retrieval (fusion, abstention, follow-ups, keyword search) and the FastAPI app."""
