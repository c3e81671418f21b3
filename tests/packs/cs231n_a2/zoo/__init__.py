"""The cs231n-a2 zoo: packages in ./bases, ./bugs and ./hostile; manifest.py says what each must get."""
