#!/usr/bin/env python3
"""Records the golden screens the screen-model tests compare with (Tests/CoreTests/Golden/<case>/).

Each case runs a program in a detached tmux pane of a given size, records the bytes tmux parses
(pipe-pane), then stops the program and saves tmux's view: `screen.txt` (capture-pane -p),
`screen-e.txt` (capture-pane -p -e, with attributes), `cursor` ("x,y,alternate") and `size` ("COLSxROWS").
The expected screens come from tmux, never from SwiftMate. Run: python3 scripts/golden.py [case…]
"""
import os, shutil, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "CoreTests", "Golden")
SOCKET = "swiftmate-golden"
ESC = "\x1b"
CSI = ESC + "["

def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=check, capture_output=True, text=True).stdout

def synthetic(name, text):
    """A case that cats a file of bytes (written with raw output, so tmux sees exactly these bytes)."""
    return dict(name=name, size=(80, 24), bytes=text.encode("utf-8", "surrogateescape"))

def sgr_case():
    out = []
    for a in ["1", "2", "3", "4", "4:2", "4:3", "5", "7", "9", "21", "53", "1;3;4", "2;7", "1;22", "3;23", "4;24", "7;27", "9;29"]:
        out.append(f"{CSI}{a}mattr {a}{CSI}0m ")
    out.append("\r\n")
    for c in range(30, 38): out.append(f"{CSI}{c}m{c}{CSI}{c+60}m{c+60}{CSI}{c+10}m{c+10}{CSI}{c+70}m{c+70}{CSI}0m ")
    out.append("\r\n")
    for n in (0, 7, 8, 15, 16, 100, 196, 231, 232, 255): out.append(f"{CSI}38;5;{n}mf{n}{CSI}48;5;{n}mb{n}{CSI}0m ")
    out.append("\r\n")
    out.append(f"{CSI}38;2;255;100;0mrgb{CSI}48;2;0;0;128mbg{CSI}0m {CSI}38:2::10:20:30mcolon{CSI}38:5:200mpal{CSI}0m\r\n")
    out.append(f"{CSI}1;31;44mbold red on blue{CSI}39mdefault fg{CSI}49mdefault bg{CSI}0m\r\n")
    out.append(f"{CSI}7;32minverse green{CSI}0m {CSI}1;2mbold dim{CSI}22mnormal\r\n")
    out.append(f"{CSI}41m{CSI}Kred line via EL{CSI}0m\r\n")
    out.append(f"{CSI}44m{CSI}2Xtwo blue ECH{CSI}0m\r\n")
    return "".join(out)

def scroll_region_case():
    out = [f"{CSI}H{CSI}2J"]
    for i in range(1, 25): out.append(f"line {i}\r\n" if i < 24 else f"line {i}")
    out.append(f"{CSI}5;15r{CSI}15;1H")
    for i in range(8): out.append(f"\nregion {i}")
    out.append(f"{CSI}5;1H")
    for i in range(3): out.append(f"{ESC}Mreverse {i}\r")
    out.append(f"{CSI}r{CSI}24;1H\nafter reset\r\n{CSI}3Sscrolled up 3{CSI}2Tdown 2")
    return "".join(out)

def insert_delete_case():
    out = [f"{CSI}H{CSI}2J"]
    for i in range(1, 21): out.append(f"row {i:02d} abcdefghijklmnopqrstuvwxyz 0123456789\r\n")
    out.append(f"{CSI}3;1H{CSI}2L{CSI}7;1H{CSI}3M{CSI}10;5H{CSI}4@INS{CSI}11;5H{CSI}6P{CSI}12;5H{CSI}5X")
    out.append(f"{CSI}4;18r{CSI}10;1H{CSI}2L{CSI}18;1H{CSI}L{CSI}r")
    out.append(f"{CSI}14;1H{CSI}4hinsert mode {CSI}4l{CSI}15;70H{CSI}20@{CSI}16;1H{CSI}100P")
    return "".join(out)

def wide_case():
    out = [f"{CSI}H{CSI}2J", "wide: 日本語テキスト 한국어 中文 ok\r\n"]
    out.append(f"{CSI}2;79H漢字at margin\r\n")
    out.append(f"{CSI}4;80H字\r\n")
    out.append("combining: e\u0301 a\u0308 o\u0302\u0323 n\u0303 done\r\n")
    out.append("emoji: \U0001F600 \U0001F680 flag ok\r\n")
    out.append(f"overwrite: 日本語{CSI}8;13Hx{CSI}8;16Hy\r\n")
    out.append(f"{CSI}10;1H中中中中{CSI}10;2H{CSI}2P\r\n")
    out.append(f"{CSI}11;1H中中中中{CSI}11;3H{CSI}1@\r\n")
    out.append(f"{CSI}?7l{CSI}13;75Habcde漢字xyz{CSI}?7h\r\n")
    return "".join(out)

def tabs_case():
    out = [f"{CSI}H{CSI}2J", "a\tb\tc\td\te\tf\tg\th\ti\tj\tk\r\n"]
    out.append(f"{CSI}3g{CSI}1;5H{ESC}H{CSI}1;13H{ESC}H{CSI}1;30H{ESC}H{CSI}3;1H")
    out.append("x\ty\tz\tw\tend\r\n")
    out.append(f"{CSI}5;40H{CSI}2Zback{CSI}6;1H{CSI}2Ifwd\r\n")
    out.append(f"{CSI}3g{CSI}8;1H\tno stops\r\n")
    return "".join(out)

def altscreen_case(stay):
    out = [f"{CSI}H{CSI}2J"]
    for i in range(30): out.append(f"main {i}\r\n")
    out.append(f"{CSI}?1049h{CSI}H{CSI}2J{CSI}1;1Halternate top{CSI}12;30H{CSI}1;7mmiddle{CSI}0m{CSI}24;1Hbottom")
    if not stay: out.append(f"{CSI}?1049lback on main")
    return "".join(out)

def autowrap_case():
    out = [f"{CSI}H{CSI}2J", "x" * 100 + "\r\n", f"{CSI}?7l" + "y" * 100 + "Z\r\n" + f"{CSI}?7h"]
    out.append("z" * 80 + "after exact\r\n")
    out.append("w" * 80 + "\r\nnext\r\n")
    out.append("v" * 80 + "\bB\r\n")
    return "".join(out)

def origin_case():
    return "".join([f"{CSI}H{CSI}2J", f"{CSI}5;10r{CSI}?6h{CSI}1;1Horigin 1,1{CSI}3;5Horigin 3,5{CSI}20;1Hclamped",
                    f"{CSI}?6l{CSI}1;1Habsolute 1,1{CSI}r{CSI}22;1Hdone"])

def erase_case():
    out = [f"{CSI}H{CSI}2J"]
    for i in range(1, 24): out.append(f"{i:02d}" + "#" * 70 + "\r\n")
    out.append(f"{CSI}3;10H{CSI}K{CSI}4;10H{CSI}1K{CSI}5;10H{CSI}2K{CSI}43m{CSI}6;20H{CSI}K{CSI}0m")
    out.append(f"{CSI}12;30H{CSI}1J{CSI}18;40H{CSI}46m{CSI}J{CSI}0m{CSI}20;1Hend")
    return "".join(out)

def linedrawing_case():
    return "".join([f"{CSI}H{CSI}2J", f"{ESC}(0lqqqqwqqqqk\r\nx    x    x\r\ntqqqqnqqqqu\r\nmqqqqvqqqqj{ESC}(B\r\n",
                    f"ascii again `afgjklmnopqrstuvwxyz{{|}}~\r\n", f"{ESC})0\x0elqk\x0f so/si\r\n"])

def cursor_case():
    return "".join([f"{CSI}H{CSI}2J", f"{CSI}10;10Hcenter{CSI}5Aup{CSI}3Bdown{CSI}4Cright{CSI}20Dleft",
                    f"{CSI}99;99Hcorner{CSI}1;1H{CSI}99Aclamp{CSI}2Enext line{CSI}Fprev",
                    f"{CSI}15GHPA{CSI}18dVPA{ESC}7{CSI}2;2Hsaved{ESC}8restored{CSI}20;1Hrep:x{CSI}5b",
                    f"{CSI}21;1H{CSI}s{CSI}22;5Hscosc{CSI}uscorc"])

def wrap_case():
    out = [f"{CSI}H{CSI}2J"]
    for i in range(40): out.append(f"wrapped line {i} " + "abcdefghij" * (i % 12) + "\r\n")
    out.append("tail")
    return "".join(out)

def utf8_invalid_case():
    return "\r\n".join(["bad: \udcff\udcfe end", "cut: \udce6\udc97 x", "overlong: \udcc0\udcaf y", "ok: é"]) + "\r\n"

CASES = [
    synthetic("sgr", sgr_case()),
    synthetic("scroll-region", scroll_region_case()),
    synthetic("insert-delete", insert_delete_case()),
    synthetic("wide-chars", wide_case()),
    synthetic("tabs", tabs_case()),
    synthetic("alt-screen-out", altscreen_case(False)),
    synthetic("alt-screen-in", altscreen_case(True)),
    synthetic("autowrap", autowrap_case()),
    synthetic("origin-mode", origin_case()),
    synthetic("erase", erase_case()),
    synthetic("line-drawing", linedrawing_case()),
    synthetic("cursor-movement", cursor_case()),
    synthetic("wrap", wrap_case()),
    synthetic("utf8-invalid", utf8_invalid_case()),
    dict(name="ls-color", size=(100, 30), command="ls --color=always -la /etc /usr/lib/x86_64-linux-gnu | head -120"),
    dict(name="vim", size=(80, 24), command="vim -n -u DEFAULTS -i NONE -N {repo}/Sources/Core/SwiftMateCore/Terminal/ScreenModel.swift",
         keys=[(1.0, ":set number\r"), (0.5, "40G"), (0.3, "ohello from the golden test"), (0.3, "\x1b"), (0.3, ":split\r"), (0.5, "")]),
    dict(name="vim-200x50", size=(200, 50), command="vim -n -u DEFAULTS -i NONE -N {repo}/Sources/Core/SwiftMateCore/Terminal/ScreenBuffer.swift",
         keys=[(1.0, ":vsplit\r"), (0.4, "60G"), (0.3, "\x17l"), (0.3, "120G"), (0.5, "")]),
    dict(name="less", size=(80, 24), command="less /usr/share/common-licenses/GPL-3",
         keys=[(0.8, " "), (0.3, "/Program\r"), (0.5, "")]),
    dict(name="man", size=(90, 30), command="man 1 ls", keys=[(1.5, " "), (0.5, "")]),
    dict(name="top", size=(120, 40), command="top -d 0.5", keys=[(2.0, "")]),
    dict(name="python-repl", size=(80, 24), command="python3 -q",
         keys=[(1.0, "print('hello ' * 3)\r"), (0.3, "[x * x for x in range(40)]\r"), (0.3, "1/0\r"),
               (0.3, "import sys; sys.version_info[:2]\r"), (0.6, "")]),
    dict(name="bash-200x50", size=(200, 50), command="bash --norc -i",
         keys=[(0.6, "PS1='\\[\\e[1;32m\\]golden\\[\\e[0m\\]:\\w\\$ '\r"), (0.3, "seq 1 300 | column -c 200\r"),
               (0.3, "printf '\\e[7mreverse\\e[0m\\n'\r"), (0.6, "")]),
]

def signal_session(sid, sig):
    """Signals the processes of the pane's session but not the pane's own shell: tmux sends SIGCONT to
    a pane process that stops, but does not see its children stop."""
    found = subprocess.run(["pgrep", "-s", sid], capture_output=True, text=True).stdout.split()
    for pid in found:
        if pid == sid and sig == signal.SIGSTOP: continue
        try: os.kill(int(pid), sig)
        except ProcessLookupError: pass

def record(case, tmp):
    name = case["name"]
    cols, rows = case["size"]
    dest = os.path.join(OUT, name)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    conf = os.path.join(tmp, "tmux.conf")
    with open(conf, "w") as f:
        f.write("set -g default-terminal tmux-256color\nset -g status off\nset -g history-limit 2000\n")
    if "bytes" in case:
        data = os.path.join(tmp, name + ".bin")
        with open(data, "wb") as f: f.write(case["bytes"])
        command = f"stty -opost; cat {data}; sleep 600"
    else:
        command = case["command"].format(repo=ROOT) + "; sleep 600"
    tmux("kill-server", check=False)
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", TERM="xterm-256color")
    subprocess.run(["tmux", "-L", SOCKET, "-f", conf, "new-session", "-d", "-s", "g", "-x", str(cols), "-y", str(rows),
                    f"tmux -L {SOCKET} wait-for go; {command}"], check=True, env=env)
    tmux("pipe-pane", "-o", "-t", "g", f"cat > {os.path.join(dest, 'input')}")
    tmux("wait-for", "-S", "go")
    time.sleep(0.8)
    for delay, keys in case.get("keys", []):
        time.sleep(delay)
        if keys: tmux("send-keys", "-t", "g", "-l", keys)
    time.sleep(0.5)
    pid = tmux("display", "-p", "-t", "g", "#{pane_pid}").strip()
    signal_session(pid, signal.SIGSTOP)
    # Wait until tmux has parsed everything and the pipe has written it all (the size stops changing).
    recorded, last = os.path.join(dest, "input"), -1
    while os.path.getsize(recorded) != last:
        last = os.path.getsize(recorded)
        time.sleep(0.5)
    with open(os.path.join(dest, "screen.txt"), "w") as f: f.write(tmux("capture-pane", "-p", "-t", "g"))
    with open(os.path.join(dest, "screen-e.txt"), "w") as f: f.write(tmux("capture-pane", "-p", "-e", "-t", "g"))
    with open(os.path.join(dest, "cursor"), "w") as f:
        f.write(tmux("display", "-p", "-t", "g", "#{cursor_x},#{cursor_y},#{alternate_on}"))
    with open(os.path.join(dest, "size"), "w") as f: f.write(f"{cols}x{rows}\n")
    tmux("pipe-pane", "-t", "g")
    time.sleep(0.2)
    # The recording must be exactly what tmux had parsed at capture time: nothing after it.
    if os.path.getsize(recorded) != last:
        sys.exit(f"{name}: output arrived after the capture; run again")
    signal_session(pid, signal.SIGKILL)
    tmux("kill-server", check=False)
    print(f"{name}: {os.path.getsize(os.path.join(dest, 'input'))} bytes")

def main():
    wanted = set(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if not wanted or case["name"] in wanted:
                record(case, tmp)

if __name__ == "__main__":
    main()
