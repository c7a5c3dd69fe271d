"""`realtalk bench`: how fast realtalk answers, how many conversations one machine carries, and how fast
its codecs, resampler, VAD and event codecs run. Each writes JSON, a Markdown table and PNG plots."""
