"""`invigil agent`: the candidate's program in a small Tk window (stdlib; ADR 0020).

The window draws the program's current ``Screen`` (agent/program.py) and calls its actions; it holds
no rule of its own. Calm and readable for a nervous candidate: large text, one clear main button per
step, Enter for the main button and Escape for going back or declining, Tab between the controls.
While anything is recorded, a small always-on-top window says so, with the time left.
"""

from __future__ import annotations

import base64
import contextlib
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from tkinter import font as tkfont
from typing import Any

from invigil.agent.program import ROOM_SCAN_FRAMES, Program
from invigil.agent.screens import Screen, exam_clock, heading, instruction, receipt_text, status_word
from invigil.agent.texts import number, t

BG = "#f6f5f1"
INK = "#1f2933"
MUTED = "#52606d"
BLUE = "#1d4ed8"
STATUS_COLORS = {"pass": "#2f7d32", "warn": "#a15c00", "fail": "#b42318"}
RED = "#c62828"
WRAP = 640


class NoDisplay(Exception):
    """There is no screen to open a window on."""


class Window:
    def __init__(self, program: Program, root: tk.Tk | None = None) -> None:
        self.program = program
        try:
            self.root = root or tk.Tk(className="Invigil")
        except tk.TclError as exc:
            raise NoDisplay(t(program.lang, "no_display", why=exc)) from exc
        with contextlib.suppress(tk.TclError):  # Tk's own dialogs (Yes/No, the file chooser) too
            self.root.tk.eval(
                f"::msgcat::mclocale {program.lang}; ::msgcat::mcload [file join $::tk_library msgs]"
            )
        self.shown = -1
        self.primary: Any = None  # what Enter does on this step
        self.secondary: Any = None  # what Escape does
        self._images: list[tk.PhotoImage] = []
        self._live: list[tuple[tk.Label | ttk.Label, Any]] = []  # labels refreshed every second
        self._build()

    def t(self, key: str, **params: object) -> str:
        """A message in the candidate's language (texts.py)."""
        return t(self.program.lang, key, **params)

    # -- frame ----------------------------------------------------------------------------------
    def _build(self) -> None:
        root = self.root
        root.title("Invigil")
        root.configure(background=BG)
        root.geometry("780x680+40+40")
        root.minsize(620, 520)
        for name in ("TkDefaultFont", "TkTextFont", "TkFixedFont"):
            with contextlib.suppress(tk.TclError):
                tkfont.nametofont(name, root).configure(size=13)
        style = ttk.Style(root)
        style.theme_use("clam")
        style.configure(".", background=BG, foreground=INK, font=("DejaVu Sans", 13))
        style.configure("TLabel", background=BG, foreground=INK)
        style.configure("Muted.TLabel", foreground=MUTED)
        style.configure("Heading.TLabel", font=("DejaVu Sans", 20, "bold"))
        style.configure("Big.TLabel", font=("DejaVu Sans", 28, "bold"))
        style.configure("Badge.TLabel", background="#fde68a", foreground="#5b3a00", padding=(8, 2))
        style.configure("Message.TLabel", foreground="#8a1c1c")
        style.configure("TButton", padding=(16, 10), font=("DejaVu Sans", 13))
        style.configure("Primary.TButton", background=BLUE, foreground="white", bordercolor=BLUE)
        style.map(
            "Primary.TButton",
            background=[("disabled", "#9aa5b1"), ("active", "#1e40af"), ("focus", BLUE)],
            foreground=[("disabled", "#eef2f6")],
        )
        style.configure("TEntry", padding=8)
        root.option_add("*TEntry*Font", ("DejaVu Sans", 14))

        head = ttk.Frame(root, padding=(24, 18, 24, 6))
        head.pack(fill="x")
        ttk.Label(head, text="Invigil", style="Muted.TLabel").pack(side="left")
        self.badge = ttk.Label(head, text="", style="Badge.TLabel")
        self.exam = ttk.Label(head, text="", style="Muted.TLabel")
        self.exam.pack(side="right")
        self.body = ttk.Frame(root, padding=(24, 6, 24, 6))
        self.body.pack(fill="both", expand=True)

        self.indicator = tk.Toplevel(root, background="#fff4f4")
        self.indicator.title(self.t("indicator_title"))
        self.indicator.attributes("-topmost", True)
        self.indicator.resizable(False, False)
        self.indicator.protocol("WM_DELETE_WINDOW", lambda: None)  # stays while anything is recorded
        row = tk.Frame(self.indicator, background="#fff4f4", padx=12, pady=8)
        row.pack()
        tk.Label(row, text="●", foreground=RED, background="#fff4f4", font=("DejaVu Sans", 18)).pack(
            side="left"
        )
        self.indicator_text = tk.Label(
            row,
            text="",
            foreground=INK,
            background="#fff4f4",
            font=("DejaVu Sans", 12, "bold"),
            justify="left",
            wraplength=320,
        )
        self.indicator_text.pack(side="left", padx=(6, 0))
        self.indicator.withdraw()

        root.bind("<Return>", lambda _e: self._press(self.primary))
        root.bind("<KP_Enter>", lambda _e: self._press(self.primary))
        root.bind("<Escape>", lambda _e: self._press(self.secondary))
        root.protocol("WM_DELETE_WINDOW", self.close)

    def _press(self, action: Any) -> None:
        if action is not None:
            action()

    # -- loop -----------------------------------------------------------------------------------
    def poll(self) -> None:
        """Draw a changed screen; refresh the clocks. Runs every 100 ms."""
        screen = self.program.screen
        if screen.serial != self.shown:
            self.shown = screen.serial
            self.render(screen)
        for label, text in self._live:
            label.configure(text=text())
        self._indicator(screen)
        self.root.after(100, self.poll)

    def close(self) -> None:
        s = self.program.screen
        if s.recording and not s.finished:
            leave = messagebox.askyesno(
                self.t("close_title"),
                self.t("close_question"),
                icon="warning",
                default="no",
                parent=self.root,
            )
            if not leave:
                return
        self.program.quit()
        self.root.destroy()

    def _indicator(self, s: Screen) -> None:
        if s.recording and not s.finished:
            label, value = exam_clock(s)
            self.indicator_text.configure(text=f"{s.recording_line}\n{label} {value}")
            if self.indicator.state() == "withdrawn":
                self.indicator.deiconify()
                self.indicator.lift()
                self.indicator.update_idletasks()
                width = self.indicator.winfo_reqwidth()
                self.indicator.geometry(f"+{self.root.winfo_screenwidth() - width - 16}+16")
        elif self.indicator.state() != "withdrawn":
            self.indicator.withdraw()

    # -- screens --------------------------------------------------------------------------------
    def render(self, s: Screen) -> None:
        for child in self.body.winfo_children():
            child.destroy()
        self._images.clear()
        self._live.clear()
        self.primary = self.secondary = None
        self.exam.configure(text=s.exam_title)
        if s.test_mode:
            self.badge.configure(text=s.test_mode)
            self.badge.pack(side="left", padx=12)
        ttk.Label(self.body, text=heading(s), style="Heading.TLabel", wraplength=WRAP).pack(
            anchor="w", pady=(4, 8)
        )
        if s.busy:
            ttk.Label(self.body, text=s.busy, wraplength=WRAP).pack(anchor="w", pady=8)
            bar = ttk.Progressbar(self.body, mode="indeterminate", length=300)
            bar.pack(anchor="w", pady=8)
            bar.start(15)
        if not s.busy or s.step == "room_scan":  # the room scan shows its pictures as they come
            if instruction(s):
                ttk.Label(self.body, text=instruction(s), wraplength=WRAP, justify="left").pack(
                    anchor="w", pady=(0, 12)
                )
            getattr(self, f"_{s.step}", lambda _s: None)(s)
        problem = s.tone == "problem"
        self.message = ttk.Label(
            self.body,
            text=("⚠  " if problem else "") + (s.message if s.step != "stopped" else ""),
            style="Message.TLabel" if problem else "TLabel",
            wraplength=WRAP,
            justify="left",
        )
        self.message.pack(anchor="w", pady=(14, 0))

    def _buttons(self, *specs: tuple[str, Any, bool]) -> list[ttk.Button]:
        """(text, action, primary) from left to right; the primary one gets the focus."""
        row = ttk.Frame(self.body)
        row.pack(fill="x", pady=(16, 0))
        made = []
        for text, action, primary in specs:
            b = ttk.Button(row, text=text, command=action, style="Primary.TButton" if primary else "TButton")
            b.pack(side="right" if primary else "left", padx=(8, 0) if primary else (0, 8))
            b.bind("<Return>", _invoke_focused)  # Enter on a focused button presses that button
            made.append(b)
            if primary:
                b.focus_set()
        return made

    def _picture(self, png: bytes | None, parent: Any = None) -> None:
        if not png:
            return
        image = tk.PhotoImage(data=base64.b64encode(png).decode(), format="png")
        self._images.append(image)
        tk.Label(parent or self.body, image=image, background=BG).pack(anchor="w", pady=8)

    def _connect(self, s: Screen) -> None:
        form = ttk.Frame(self.body)
        form.pack(fill="x")
        ttk.Label(form, text=self.t("server_address")).pack(anchor="w")
        self.server_entry = ttk.Entry(form, width=48, font=("DejaVu Sans", 14))
        self.server_entry.insert(0, s.server)
        self.server_entry.pack(anchor="w", pady=(2, 12), fill="x")
        ttk.Label(form, text=self.t("activation_code")).pack(anchor="w")
        self.code_entry = ttk.Entry(form, width=28, font=("DejaVu Sans Mono", 18))
        self.code_entry.pack(anchor="w", pady=(2, 4))
        ttk.Label(form, text=self.t("code_example"), style="Muted.TLabel", wraplength=WRAP).pack(anchor="w")

        def go() -> None:
            self.program.connect(self.server_entry.get(), self.code_entry.get())

        self._buttons((self.t("button_connect"), go, True))
        self.primary = go
        (self.code_entry if s.server else self.server_entry).focus_set()

    def _notice(self, s: Screen) -> None:
        notice = s.notice or {}
        box = tk.Frame(self.body, background="white", highlightthickness=1, highlightbackground="#cbd2d9")
        box.pack(fill="both", expand=True)
        text = tk.Text(
            box,
            wrap="word",
            height=14,
            background="white",
            foreground=INK,
            relief="flat",
            padx=14,
            pady=10,
            font=("DejaVu Sans", 12),
            takefocus=True,
        )
        scroll = ttk.Scrollbar(box, command=text.yview)
        text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        text.pack(side="left", fill="both", expand=True)
        text.tag_configure("title", font=("DejaVu Sans", 15, "bold"), spacing3=6)
        text.tag_configure("h", font=("DejaVu Sans", 13, "bold"), spacing1=10, spacing3=2)
        text.tag_configure("p", spacing3=4)
        text.tag_configure("li", lmargin1=14, lmargin2=28, spacing3=2)
        text.insert("end", f"{notice.get('title', '')}\n", "title")
        for section in notice.get("sections", []):
            text.insert("end", f"{section['heading']}\n", "h")
            for paragraph in section.get("paragraphs", []):
                text.insert("end", f"{paragraph}\n", "p")
            for item in section.get("items", []):
                text.insert("end", f"•  {item}\n", "li")
        text.configure(state="disabled")
        ttk.Label(self.body, text=notice.get("acknowledge", ""), wraplength=WRAP, justify="left").pack(
            anchor="w", pady=(10, 0)
        )
        self._buttons(
            (self.t("button_decline"), self.program.decline_notice, False),
            (self.t("button_accept"), self.program.accept_notice, True),
        )
        self.primary, self.secondary = self.program.accept_notice, self.program.decline_notice

    def _checks(self, s: Screen) -> None:
        row = ttk.Frame(self.body)
        row.pack(fill="x")
        table = ttk.Frame(row)
        table.pack(side="left", fill="x", expand=True, anchor="n")
        for c in s.checks:
            line = ttk.Frame(table)
            line.pack(fill="x", pady=4, anchor="w")
            tk.Label(
                line,
                text=f" {status_word(s, c.status)} ",
                foreground="white",
                background=STATUS_COLORS[c.status],
                font=("DejaVu Sans", 11, "bold"),
                width=9,
            ).pack(side="left", anchor="n", padx=(0, 10))
            words = ttk.Frame(line)
            words.pack(side="left", fill="x")
            ttk.Label(words, text=f"{c.name}: {c.found}", wraplength=420, justify="left").pack(anchor="w")
            if c.fix and c.status != "pass":
                ttk.Label(words, text=c.fix, style="Muted.TLabel", wraplength=420, justify="left").pack(
                    anchor="w"
                )
        side = ttk.Frame(row)
        side.pack(side="right", anchor="n")
        self._picture(s.preview, side)
        start, again = self.program.continue_, self.program.check_again
        buttons = self._buttons(
            (self.t("button_check_again"), again, not s.can_continue),
            (self.t("button_start_exam"), start, True),
        )
        if not s.can_continue:
            buttons[1].state(["disabled"])
            buttons[0].focus_set()
        ttk.Label(self.body, text=self.t("starting_starts_recording"), style="Muted.TLabel").pack(
            anchor="e", pady=(6, 0)
        )
        self.primary = start if s.can_continue else again

    def _id_photo(self, s: Screen) -> None:
        self._picture(s.preview)
        if s.photos:
            self._buttons(
                (self.t("button_another_photo"), self.program.take_photo, False),
                (self.t("button_continue"), self.program.continue_, True),
            )
            self.primary = self.program.continue_
        else:
            self._buttons((self.t("button_take_photo"), self.program.take_photo, True))
            self.primary = self.program.take_photo

    def _room_scan(self, s: Screen) -> None:
        self._picture(s.preview)
        if s.photos:
            picture = self.t("room_scan_picture", n=s.photos, total=ROOM_SCAN_FRAMES)
            ttk.Label(self.body, text=picture).pack(anchor="w")
        if s.busy:
            return
        if s.photos >= ROOM_SCAN_FRAMES:
            self._buttons((self.t("button_continue"), self.program.continue_, True))
            self.primary = self.program.continue_
        else:
            self._buttons((self.t("button_start_room_scan"), self.program.scan_room, True))
            self.primary = self.program.scan_room

    def _pin(self, s: Screen) -> None:
        entry = ttk.Entry(self.body, width=16, font=("DejaVu Sans Mono", 20))
        entry.pack(anchor="w", pady=8)
        entry.focus_set()

        def go() -> None:
            self.program.enter_pin(entry.get())

        self._buttons((self.t("button_open_assignment"), go, True))
        entry.focus_set()
        self.primary = go

    def _recording(self, s: Screen) -> None:
        label = ttk.Label(self.body, text=exam_clock(s)[0], style="Muted.TLabel")
        label.pack(anchor="w")
        left = ttk.Label(self.body, text=exam_clock(s)[1], style="Big.TLabel")
        left.pack(anchor="w")
        self._live += [(label, lambda: exam_clock(s)[0]), (left, lambda: exam_clock(s)[1])]
        ttk.Label(self.body, text=f"● {s.recording_line}", foreground=RED).pack(anchor="w", pady=(10, 4))
        ttk.Label(self.body, text=self.t("handin_folder", folder=s.handin_dir), wraplength=WRAP).pack(
            anchor="w"
        )
        if s.assignment_files:
            ttk.Label(
                self.body,
                text=self.t("assignment_files", files=", ".join(s.assignment_files), folder=s.assignment_dir),
                wraplength=WRAP,
            ).pack(anchor="w", pady=(4, 0))

        def choose() -> None:
            title = self.t("handin_dialog_title")
            files = filedialog.askopenfilenames(parent=self.root, initialdir=s.handin_dir, title=title)
            if files:
                self.program.ask_handin([Path(f) for f in files])

        self._buttons(
            (self.t("button_choose_files"), choose, False),
            (self.t("button_handin_folder"), lambda: self.program.ask_handin(), True),
        )
        self.primary = self.program.ask_handin

    def _confirm_handin(self, s: Screen) -> None:
        for name, size in s.handin_files:
            size_text = self.t("file_size", size=number(size, s.lang))
            ttk.Label(self.body, text=f"•  {name}   ({size_text})").pack(anchor="w", padx=8)
        self._buttons(
            (self.t("button_back"), self.program.cancel_handin, False),
            (self.t("button_handin_now"), self.program.confirm_handin, True),
        )
        self.primary, self.secondary = self.program.confirm_handin, self.program.cancel_handin

    def _receipt(self, s: Screen) -> Callable[[], None]:
        box = tk.Text(
            self.body,
            height=10,
            wrap="word",
            background="white",
            foreground=INK,
            relief="flat",
            padx=12,
            pady=8,
            font=("DejaVu Sans Mono", 11),
            highlightthickness=1,
            highlightbackground="#cbd2d9",
        )
        box.insert("1.0", receipt_text(s))
        box.configure(state="disabled")  # selectable and copyable, not editable
        box.pack(fill="x", pady=(0, 8))
        if s.receipt_file:
            ttk.Label(self.body, text=self.t("receipt_saved", path=s.receipt_file), wraplength=WRAP).pack(
                anchor="w"
            )

        def copy() -> None:
            self.root.clipboard_clear()
            self.root.clipboard_append(receipt_text(s))

        return copy

    def _handed_in(self, s: Screen) -> None:
        copy = self._receipt(s)
        left = ttk.Label(self.body, text="", style="Heading.TLabel")
        left.pack(anchor="w", pady=(8, 0))
        self._live.append((left, lambda: " ".join(exam_clock(s))))
        self._buttons((self.t("button_copy_receipt"), copy, True))
        self.primary = copy

    def _stopped(self, s: Screen) -> None:
        ttk.Label(self.body, text=s.message, font=("DejaVu Sans", 15), wraplength=WRAP).pack(
            anchor="w", pady=4
        )
        if s.receipt:
            self._receipt(s)
        self._buttons((self.t("button_close"), self.close, True))
        self.primary = self.close

    def _declined(self, s: Screen) -> None:
        self._buttons((self.t("button_close"), self.close, True))
        self.primary = self.close

    _failed = _declined


def _invoke_focused(event: Any) -> str:
    event.widget.invoke()
    return "break"


def run_window(program: Program) -> int:
    window = Window(program)
    program.start()
    window.poll()
    window.root.mainloop()
    s = program.screen
    return 0 if s.step == "stopped" else 2 if s.step == "declined" else 1
