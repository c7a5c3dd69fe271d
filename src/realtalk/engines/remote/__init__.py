"""Engines on other servers, reached over the OpenAI-compatible HTTP APIs (vLLM, llama.cpp, Ollama,
Kokoro-FastAPI, speaches, OpenAI itself, or another realtalk)."""
