"""Errors the model raises; the PowerShell layer turns them into ErrorRecords."""
from __future__ import annotations


class HyperVError(Exception):
    def __init__(self, message: str, category: str = "InvalidOperation",
                 error_id: str = "InvalidOperation") -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.error_id = error_id
