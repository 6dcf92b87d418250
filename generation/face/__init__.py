"""Face geometry: landmarks, expression controls, alignment, the head model and UV unwrapping."""
