# One allocation far beyond the memory limit (and beyond the machine): malloc fails at once and
# Python raises MemoryError before a single page is charged to the box.
x = bytearray(1 << 44)
print(len(x))
