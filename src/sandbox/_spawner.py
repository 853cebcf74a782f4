"""Starts processes for bench's main process, which is large: forking it costs 5-12 ms of its
one thread per process, where this small interpreter starts one in about a millisecond (by
vfork, as subprocess does; by a fork of its own for a child with cgroups to join or limits).

Requests arrive on stdin as JSON lines:
  {"op": "spawn", "id": N, "file": ..., "args": [...], "cwd": ..., "env": {...},
   "stdin": base64 | null, "hold_stdin": bool, "fds": [[path, flags], ...], "report": bool,
   "merge_stderr": bool, "cgroups": [procs file, ...], "rlimits": [[name, value], ...]}
  {"op": "stdin", "id": N, "data": base64, "end": bool}   more for a held stdin; "end" closes it after
  {"op": "close", "id": N}      close what is left of the child's pipes (after the kill grace)
  {"op": "mount", "id": N, "source", "target", "type", "flags", "data"}   mount(2), answered A
  {"op": "unmount", "id": N, "target", "flags"}                            umount2(2), answered A
Stdin travels as base64 of the bytes the harness means to write (any text, lone surrogates
included, arrives as the harness encoded it). A request that cannot be carried out is answered
F (for a spawn) or dropped; it never ends the helper.
Events go to stdout as frames: 4-byte length, 1-byte kind, 4-byte id, payload.
  S started (JSON {"pid"}), F failed to start (JSON {"message"}), O stdout, E stderr,
  R report channel, X exited (JSON {"code", "signal"}), C every pipe closed,
  A a mount or unmount done (JSON {"error": null or why}).
Each child gets a session (and process group) of its own, its stdio on socket pairs as Node
makes them (stderr on stdout's with "merge_stderr": one stream keeps the order), the files in
"fds" reopened as descriptors 3, 4, ... and the report channel (a socket pair whose other end
only we hold) after them; nothing else of ours. Before its exec it joins the given cgroups (by
writing its pid into each procs file; a refusal is said on its stdout, exit 125) and takes the
given resource limits, soft and hard: what a shell prelude would do, without its start. The
exec is awaited without blocking the loop (a cgroup v1 join can wait for milliseconds).
Stdin closed: exit.
"""
import base64
import ctypes
import fcntl
import json
import os
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys

RESERVED = 16
_first = os.open('/dev/null', os.O_RDWR | os.O_CLOEXEC)
NULL = fcntl.fcntl(_first, fcntl.F_DUPFD_CLOEXEC, 3 + RESERVED)
# Descriptors 3..18 hold /dev/null, so our own descriptors never land where a child's go.
for fd in range(3, 3 + RESERVED):
    os.dup2(NULL, fd, inheritable=False)

# Ignored, by a handler rather than SIG_IGN, which a child would keep through its exec.
signal.signal(signal.SIGINT, lambda number, frame: None)
# What a child gets back at its default, ignored here or by Python.
RESET_SIGNALS = (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)
selector = selectors.DefaultSelector()
out = sys.stdout.buffer
children = {}


outbox = []


def send(kind, ident, payload=b''):
    """Queued, and written with whatever else one turn of the loop produced: one wake-up of the harness per turn."""
    outbox.append(struct.pack('>IcI', len(payload), kind, ident))
    outbox.append(payload)


def flush():
    if outbox:
        out.write(b''.join(outbox))
        outbox.clear()
        out.flush()


class Child:
    def __init__(self, ident, pid, popen=None):
        self.ident = ident
        self.pid = pid
        # Held until we have reaped it ourselves: subprocess would reap a Popen it finds unreferenced and running.
        self.popen = popen
        self.streams = []
        self.pipes = {}
        self.stdin = None
        self.pending = b''
        self.hold = False
        self.exited = False

    def reap(self):
        """Waits for the child's end and gives its exit code (minus the signal's number when one ended it)."""
        code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        if self.popen is not None:
            self.popen.returncode = code
        return code

    def close_pipe(self, sock):
        if sock in self.pipes:
            del self.pipes[sock]
            selector.unregister(sock)
            sock.close()
            if not self.pipes:
                send(b'C', self.ident)
                self.finish()

    def close_stdin(self):
        if self.stdin is not None:
            try:
                selector.unregister(self.stdin)
            except KeyError:
                pass
            self.stdin.close()
            self.stdin = None

    def feed(self):
        """Stdin is watched for writing while something is pending, and closed once all is written and nothing more may come."""
        if self.stdin is None:
            return
        try:
            selector.get_key(self.stdin)
            watched = True
        except KeyError:
            watched = False
        if self.pending:
            if not watched:
                selector.register(self.stdin, selectors.EVENT_WRITE, ('stdin', self))
        elif not self.hold:
            self.close_stdin()
        elif watched:
            selector.unregister(self.stdin)

    def finish(self):
        if self.exited and not self.pipes:
            self.close_stdin()
            children.pop(self.ident, None)


def describe(error):
    return f'{getattr(error, "strerror", None) or error} ({error.__class__.__name__}, errno {getattr(error, "errno", None)})'


def spawn(request):
    ident = request['id']
    opened, ours, streams, failure, popen = [], [], [], None, None
    hold = bool(request.get('hold_stdin'))
    stdin_data = request.get('stdin')
    with_stdin = stdin_data is not None or hold
    merged = bool(request.get('merge_stderr'))
    try:
        plan = ChildPlan(request)
        for path, flags in request.get('fds', []):
            opened.append(os.open(path, flags | os.O_CLOEXEC))
        if request.get('report'):
            mine, other = socket.socketpair()
            ours.append((mine, b'R'))
            opened.append(other.detach())
        streams = [socket.socketpair() for _ in range(2 if merged else 3)]
        for index, fd in enumerate(opened):
            os.dup2(fd, 3 + index, inheritable=False)
        theirs = [pair[1].fileno() for pair in streams]
        stdio = (theirs[0] if with_stdin else NULL, theirs[1], theirs[-1])
        try:
            if plan.confined:
                failure, success = os.pipe2(os.O_CLOEXEC)
                try:
                    pid = os.fork()
                    if pid == 0:
                        plan.start(*stdio, len(opened), success)
                finally:
                    os.close(success)
            else:
                popen = plan.spawn(*stdio, len(opened))
                pid = popen.pid
        finally:
            for pair in streams:
                pair[1].close()
            for index in range(len(opened)):
                os.dup2(NULL, 3 + index, inheritable=False)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        for sock, _ in ours:
            sock.close()
        for pair in streams:
            pair[0].close()
        if failure is not None:
            os.close(failure)
        send(b'F', ident, json.dumps({'message': describe(error)}).encode())
        return
    finally:
        for fd in opened:
            os.close(fd)
    child = Child(ident, pid, popen)
    children[ident] = child
    child.streams = [(streams[1][0], b'O'), *([] if merged else [(streams[2][0], b'E')]), *ours]
    if with_stdin:
        child.stdin = streams[0][0]
        child.pending = base64.b64decode(stdin_data or '')
        child.hold = hold
    else:
        streams[0][0].close()
    if failure is None:
        announce(child, b'')
    else:
        # Its exec is awaited in the loop: the pipe closes when it succeeds, and carries why when it does not.
        selector.register(failure, selectors.EVENT_READ, ('exec', child))


class ChildPlan:
    """What the child does between fork and exec, worked out before the fork: the child then only makes system calls."""

    def __init__(self, request):
        self.file = request['file']
        self.argv = [request['file'], *request['args']]
        self.cwd = request['cwd']
        self.env = dict(request['env'])
        self.cgroups = [(path, f'sandbox: cannot join cgroup {path}\n'.encode()) for path in request.get('cgroups', [])]
        self.rlimits = [(getattr(resource, f'RLIMIT_{name.upper()}'), int(value), name) for name, value in request.get('rlimits', [])]
        self.confined = bool(self.cgroups or self.rlimits)

    def spawn(self, stdin, stdout, stderr, handed):
        """Without cgroups to join or limits to take, the child is started as subprocess starts it, by vfork: the
        kernel copies none of our memory and no Python runs in the child: about half the CPU of a fork.
        Its signals are at their defaults (SIGINT, ignored here, by way of a handler that its exec resets)."""
        return subprocess.Popen(
            self.argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=self.cwd, env=self.env,
            start_new_session=True, restore_signals=True, close_fds=True, pass_fds=tuple(range(3, 3 + handed)),
        )

    def start(self, stdin, stdout, stderr, handed, report):
        """In the child, never returning: set up, then exec; why an exec failed goes to `report`."""
        try:
            try:
                os.setsid()
                os.dup2(stdin, 0)
                os.dup2(stdout, 1)
                os.dup2(stderr, 2)
                for fd in range(3, 3 + handed):
                    os.set_inheritable(fd, True)
                os.closerange(3 + handed, report)
                os.closerange(report + 1, 1 << 20)
                os.chdir(self.cwd)
            except OSError as error:
                os.write(report, describe(error).encode())
                os._exit(127)
            for path, refusal in self.cgroups:
                try:
                    joined = os.open(path, os.O_WRONLY)
                    os.write(joined, b'%d\n' % os.getpid())
                    os.close(joined)
                except OSError:
                    os.write(1, refusal)
                    os._exit(125)
            for limit, value, name in self.rlimits:
                try:
                    resource.setrlimit(limit, (value, value))
                except (OSError, ValueError) as error:
                    os.write(1, f'sandbox: cannot set the {name} limit: {error}\n'.encode())
                    os._exit(125)
            for number in RESET_SIGNALS:
                signal.signal(number, signal.SIG_DFL)
            try:
                os.execvpe(self.file, self.argv, self.env)
            except OSError as error:
                os.write(report, describe(error).encode())
        finally:
            os._exit(127)


def started(failure, child):
    """The exec succeeded (the pipe closed empty) or failed (it says why)."""
    selector.unregister(failure)
    why = os.read(failure, 4096)
    os.close(failure)
    announce(child, why)


def announce(child, why):
    """The child is announced and watched, or (with why its exec failed) reaped and refused."""
    pidfd = None
    if not why:
        try:
            pidfd = os.pidfd_open(child.pid)
        except OSError as error:
            os.killpg(child.pid, signal.SIGKILL)
            why = describe(error).encode()
    if why:
        child.reap()
        for sock, _ in child.streams:
            sock.close()
        child.close_stdin()
        children.pop(child.ident, None)
        send(b'F', child.ident, json.dumps({'message': why.decode(errors='replace')}).encode())
        return
    send(b'S', child.ident, json.dumps({'pid': child.pid}).encode())
    for sock, kind in child.streams:
        sock.setblocking(False)
        child.pipes[sock] = kind
        selector.register(sock, selectors.EVENT_READ, ('pipe', child))
    if child.stdin is not None:
        child.stdin.setblocking(False)
        child.feed()
    selector.register(pidfd, selectors.EVENT_READ, ('exit', child))


def exited(pidfd, child):
    selector.unregister(pidfd)
    os.close(pidfd)
    code = child.reap()
    status = {'code': code, 'signal': None} if code >= 0 else {'code': None, 'signal': signal.Signals(-code).name}
    send(b'X', child.ident, json.dumps(status).encode())
    child.exited = True
    child.finish()


libc = ctypes.CDLL(None, use_errno=True)


def mounted(request):
    """mount(2) or umount2(2), answered with the kernel's refusal, if any."""
    target = os.fsencode(request['target'])
    if request['op'] == 'mount':
        done = libc.mount(os.fsencode(request['source']), target, request['type'].encode(), ctypes.c_ulong(request.get('flags', 0)), request.get('data', '').encode())
    else:
        done = libc.umount2(target, ctypes.c_int(request.get('flags', 0)))
    error = None if done == 0 else os.strerror(ctypes.get_errno())
    send(b'A', request['id'], json.dumps({'error': error}).encode())


def handle(line):
    try:
        request = json.loads(line)
    except ValueError:
        return
    try:
        carry_out(request)
    except Exception as error:  # one bad request must not take every other child down with the helper
        if request.get('op') == 'spawn' and request.get('id') not in children:
            send(b'F', request.get('id', 0), json.dumps({'message': f'the process helper could not start it: {error}'}).encode())
        elif request.get('op') in ('mount', 'unmount'):
            send(b'A', request.get('id', 0), json.dumps({'error': f'the process helper could not do it: {error}'}).encode())


def carry_out(request):
    if request['op'] == 'spawn':
        spawn(request)
    elif request['op'] == 'stdin':
        child = children.get(request['id'])
        if child and child.stdin is not None:
            child.pending += base64.b64decode(request.get('data', ''))
            if request.get('end'):
                child.hold = False
            child.feed()
    elif request['op'] == 'close':
        child = children.get(request['id'])
        if child:
            for sock in list(child.pipes):
                child.close_pipe(sock)
    elif request['op'] in ('mount', 'unmount'):
        mounted(request)


def main():
    os.set_blocking(0, False)
    selector.register(0, selectors.EVENT_READ, ('requests', None))
    buffered = b''
    while True:
        flush()
        for key, _ in selector.select():
            what, child = key.data
            if what == 'requests':
                chunk = os.read(0, 1 << 16)
                if not chunk:
                    return
                buffered += chunk
                *lines, buffered = buffered.split(b'\n')
                for line in lines:
                    if line:
                        handle(line)
            elif what == 'pipe':
                try:
                    chunk = key.fileobj.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b''
                if chunk:
                    send(child.pipes[key.fileobj], child.ident, chunk)
                else:
                    child.close_pipe(key.fileobj)
            elif what == 'stdin':
                try:
                    written = key.fileobj.send(child.pending[:1 << 16])
                    child.pending = child.pending[written:]
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    child.pending = b''
                    child.hold = False
                if not child.pending:
                    child.feed()
            elif what == 'exec':
                started(key.fileobj, child)
            elif what == 'exit':
                exited(key.fileobj, child)


if __name__ == '__main__':
    try:
        main()
        flush()
    except BrokenPipeError:
        pass
