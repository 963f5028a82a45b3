"""Compression: decompose a teacher into a student, distil, supernet, search."""
