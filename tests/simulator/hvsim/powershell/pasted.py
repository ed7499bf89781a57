"""Text pasted from documentation, read the way PowerShell's tokenizer reads it.

PowerShell treats the typographic dashes U+2013, U+2014 and U+2015 as '-' wherever a dash starts a
token (parameters, operators, negative numbers), the quotes U+2018, U+2019, U+201A and U+201B as
"'" and U+201C, U+201D and U+201E as '"' wherever a quote opens or closes a string (PowerShell's
CharExtensions.IsDash / IsSingleQuote / IsDoubleQuote). Text copied from Microsoft's guides
carries them (`New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix \u201c192.168.100.0/24\u201d`
in the guide, with the quotes themselves).

`normalize` rewrites those characters to their ASCII forms one code point for one code point, so
that the tree-sitter grammar (which knows only ASCII) parses the text and every position still
points at the same character of the original. Characters inside strings and comments, and dashes
inside a word (`LAB–HV1`), are left alone: PowerShell keeps them as they are there too.
"""

from __future__ import annotations

DASHES = frozenset("\u2013\u2014\u2015")
SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")
DOUBLE_QUOTES = frozenset('"\u201c\u201d\u201e')
# A dash starts a token when it follows one of these (or a line start / whitespace).
_TOKEN_BOUNDARY = frozenset("(){}[];|,=!&")


def normalize(text: str) -> str:
    """The same text with PowerShell's typographic dashes and quotes in their ASCII forms."""
    return _Scanner(text).run()


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def emit(self, char: str) -> None:
        self.out.append(char)
        self.pos += 1

    def run(self) -> str:
        self.code(closing=None)
        return "".join(self.out)

    def at_token_start(self) -> bool:
        if self.pos == 0:
            return True
        before = self.text[self.pos - 1]
        return before.isspace() or before in _TOKEN_BOUNDARY

    def code(self, closing: str | None) -> None:
        """Script text; returns after the `closing` parenthesis of a $( ) inside a string."""
        depth = 0
        while self.pos < len(self.text):
            char = self.peek()
            if closing is not None:
                if char == "(":
                    depth += 1
                elif char == ")":
                    if depth == 0:
                        self.emit(char)
                        return
                    depth -= 1
            if char == "#" and self.at_token_start():
                self.line_comment()
            elif char == "<" and self.peek(1) == "#":
                self.block_comment()
            elif char == "@" and (self.peek(1) in SINGLE_QUOTES or self.peek(1) in DOUBLE_QUOTES) \
                    and self.peek(2) in ("\r", "\n"):
                self.here_string()
            elif char in SINGLE_QUOTES:
                self.out.append("'")
                self.pos += 1
                self.single_quoted()
            elif char in DOUBLE_QUOTES:
                self.out.append('"')
                self.pos += 1
                self.double_quoted()
            elif char in DASHES and self.at_token_start():
                self.out.append("-")
                self.pos += 1
            elif char == "`":
                self.emit(char)
                if self.pos < len(self.text):
                    self.emit(self.peek())
            else:
                self.emit(char)

    def line_comment(self) -> None:
        while self.pos < len(self.text) and self.peek() not in "\r\n":
            self.emit(self.peek())

    def block_comment(self) -> None:
        while self.pos < len(self.text):
            if self.peek() == "#" and self.peek(1) == ">":
                self.emit("#")
                self.emit(">")
                return
            self.emit(self.peek())

    def here_string(self) -> None:
        quote = "'" if self.peek(1) in SINGLE_QUOTES else '"'
        family = SINGLE_QUOTES if quote == "'" else DOUBLE_QUOTES
        self.emit("@")
        self.out.append(quote)
        self.pos += 1
        line_start = False
        while self.pos < len(self.text):
            char = self.peek()
            if line_start and char in family and self.peek(1) == "@":
                self.out.append(quote)
                self.pos += 1
                self.emit("@")
                return
            line_start = char in "\r\n"
            self.emit(char)

    def single_quoted(self) -> None:
        while self.pos < len(self.text):
            char = self.peek()
            if char in SINGLE_QUOTES:
                if self.peek(1) in SINGLE_QUOTES:
                    # A doubled quote stands for one quote character inside the string.
                    self.out.append("''")
                    self.pos += 2
                    continue
                self.out.append("'")
                self.pos += 1
                return
            self.emit(char)

    def double_quoted(self) -> None:
        while self.pos < len(self.text):
            char = self.peek()
            if char == "`":
                self.emit(char)
                if self.pos < len(self.text):
                    self.emit(self.peek())
                continue
            if char == "$" and self.peek(1) == "(":
                self.emit("$")
                self.emit("(")
                self.code(closing=")")
                continue
            if char in DOUBLE_QUOTES:
                if self.peek(1) in DOUBLE_QUOTES:
                    self.out.append('""')
                    self.pos += 2
                    continue
                self.out.append('"')
                self.pos += 1
                return
            self.emit(char)
