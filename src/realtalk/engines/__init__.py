"""The four engines a voice turn needs (VAD, STT, LLM, TTS): interfaces, registry, implementations."""
