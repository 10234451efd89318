"""Tune or Prompt: fine-tune a small model or keep prompting a large one?"""
