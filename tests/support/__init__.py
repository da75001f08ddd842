"""What tests share: CIB builders (cibs), scheduler cases as data (cases), the one polling helper (wait), mypy."""
