"""Signed PDF documents (issue 13): layout (reportlab + DejaVu Sans, embedded), QR (segno),
PAdES signatures (pyHanko), development keys (cryptography). backend calls it through the
`DocumentMaker` port (backend/ports.py)."""
