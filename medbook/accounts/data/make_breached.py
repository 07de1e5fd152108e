"""Write breached.txt.gz: passwords of 12 or more characters built the way breached ones are (no network).

The lists of leaked passwords are dominated by a common word or name, capitalised or not, followed by a
year, a run of digits or a symbol, and by keyboard walks; Django's common-password list holds mostly
shorter ones, which the 12-character minimum refuses anyway. Run: python medbook/accounts/data/make_breached.py
"""

import gzip
from itertools import product
from pathlib import Path

WORDS = """password passw0rd p@ssword p@ssw0rd qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm iloveyou welcome
admin administrator letmein monkey dragon football baseball soccer hockey sunshine princess shadow master
superman batman trustno1 whatever freedom starwars pokemon charlie michael jessica jennifer ashley daniel
thomas robert jordan hunter summer winter spring autumn flower computer internet secret default changeme
login access hello welcome1 mustang harley ranger killer tigger buster cookie chocolate butterfly
liverpool chelsea arsenal barcelona realmadrid juventus manchester november december january february
doctor nurse hospital clinic medical health patient medbook booking budapest hungary magyar
jelszo jelszavam szerelem szeretlek titkos macska kutya cica napsugar kiskutya ferencvaros debrecen
szeged miskolc pecs gyor balaton tavasz nyar osz tel anyuka apuka""".split()
SUFFIXES = [
    "",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "!",
    "1!",
    "123!",
    "!!",
    "@123",
    "#1",
    "01",
    "007",
    "69",
    "99",
    "00",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "2027",
    "@2025",
    "@2026",
    "!2025",
    "!2026",
]
WALKS = """123456789012 1234567890123 12345678901234 123456123456 qwerty123456 qwertyuiop123 1q2w3e4r5t6y
1q2w3e4r5t6y7u qazwsxedcrfv qazwsxedcrfvtgb zaq12wsxcde3 1qaz2wsx3edc 1qazxsw23edc asdfghjkl123
qwertzuiop12 qwertzuiopasdf 111111111111 000000000000 123123123123 abcabcabcabc abcdefghijkl
abc123abc123 aaaaaaaaaaaa 987654321098 password1234 passwordpassword""".split()


def candidates():
    for word, suffix in product(WORDS, SUFFIXES):
        for form in {word, word.capitalize(), word.upper()}:
            yield form + suffix
            yield form + form + suffix
    yield from WALKS


def main() -> None:
    found = sorted({c.lower() for c in candidates() if len(c) >= 12})
    target = Path(__file__).with_name("breached.txt.gz")
    with gzip.GzipFile(target, "wb", compresslevel=9, mtime=0) as out:  # the same bytes on every run
        out.write(("\n".join(found) + "\n").encode())
    print(f"{len(found)} passwords written to {target}")


if __name__ == "__main__":
    main()
