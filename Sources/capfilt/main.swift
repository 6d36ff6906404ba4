print("capfilt")
