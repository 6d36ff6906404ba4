// The Training module: BLIP's pre-training objectives (ITC, ITM, LM) with hand-written backward
// kernels in the style of llm.c. See docs/training.md.
