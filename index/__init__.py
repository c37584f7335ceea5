"""Index: embedders, the FAISS vector store, the jieba BM25 keyword index and the on-disk index directory."""
