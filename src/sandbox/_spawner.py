"""Starts processes for bench's main process, which is large: forking it costs 5-12 ms of its
one thread per process, where this small interpreter starts one (vfork) in about a millisecond.

Requests arrive on stdin as JSON lines:
  {"op": "spawn", "id": N, "file": ..., "args": [...], "cwd": ..., "env": {...},
   "stdin": base64 | null, "hold_stdin": bool, "fds": [[path, flags], ...], "report": bool}
  {"op": "stdin", "id": N, "data": base64, "end": bool}   more for a held stdin; "end" closes it after
Stdin travels as base64 of the bytes the harness means to write (any text, lone surrogates
included, arrives as the harness encoded it). A request that cannot be carried out is answered
F (for a spawn) or dropped; it never ends the helper.
  {"op": "close", "id": N}      close what is left of the child's pipes (after the kill grace)
Events go to stdout as frames: 4-byte length, 1-byte kind, 4-byte id, payload.
  S started (JSON {"pid"}), F failed to start (JSON {"message"}), O stdout, E stderr,
  R report channel, X exited (JSON {"code", "signal"}), C every pipe closed.
Each child gets a session (and process group) of its own, its stdio on socket pairs as Node
makes them, the files in "fds" reopened as descriptors 3, 4, ... and the report channel (a
socket pair whose other end only we hold) after them; nothing else of ours. Stdin closed: exit.
"""
import base64
import fcntl
import json
import os
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

signal.signal(signal.SIGINT, signal.SIG_IGN)
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
    def __init__(self, ident):
        self.ident = ident
        self.pipes = {}
        self.stdin = None
        self.pending = b''
        self.hold = False
        self.exited = False

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


def spawn(request):
    ident = request['id']
    child = Child(ident)
    opened, ours, theirs = [], [], []
    try:
        for path, flags in request.get('fds', []):
            opened.append(os.open(path, flags | os.O_CLOEXEC))
        if request.get('report'):
            mine, other = socket.socketpair()
            ours.append((mine, b'R'))
            opened.append(other.detach())
        for index, fd in enumerate(opened):
            os.dup2(fd, 3 + index, inheritable=False)
        streams = [socket.socketpair() for _ in range(3)]
        stdin_data = request.get('stdin')
        hold = bool(request.get('hold_stdin'))
        theirs = [pair[1] for pair in streams]
        try:
            process = subprocess.Popen(
                [request['file'], *request['args']],
                cwd=request['cwd'],
                env=request['env'],
                stdin=theirs[0].fileno() if stdin_data is not None or hold else NULL,
                stdout=theirs[1].fileno(),
                stderr=theirs[2].fileno(),
                pass_fds=tuple(range(3, 3 + len(opened))),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            for pair in theirs:
                pair.close()
            for index in range(len(opened)):
                os.dup2(NULL, 3 + index, inheritable=False)
    except OSError as error:
        for sock, _ in ours:
            sock.close()
        for pair in locals().get('streams', []):
            pair[0].close()
        send(b'F', ident, json.dumps({'message': f'{error.strerror or error} ({error.__class__.__name__}, errno {error.errno})'}).encode())
        return
    finally:
        for fd in opened:
            os.close(fd)
    child.process = process
    children[ident] = child
    send(b'S', ident, json.dumps({'pid': process.pid}).encode())
    ours = [(streams[1][0], b'O'), (streams[2][0], b'E'), *ours]
    for sock, kind in ours:
        sock.setblocking(False)
        child.pipes[sock] = kind
        selector.register(sock, selectors.EVENT_READ, ('pipe', child))
    if stdin_data is not None or hold:
        child.stdin = streams[0][0]
        child.stdin.setblocking(False)
        child.pending = base64.b64decode(stdin_data or '')
        child.hold = hold
        child.feed()
    else:
        streams[0][0].close()
    pidfd = os.pidfd_open(process.pid)
    selector.register(pidfd, selectors.EVENT_READ, ('exit', child))


def exited(pidfd, child):
    selector.unregister(pidfd)
    os.close(pidfd)
    code = child.process.wait()
    status = {'code': code, 'signal': None} if code >= 0 else {'code': None, 'signal': signal.Signals(-code).name}
    send(b'X', child.ident, json.dumps(status).encode())
    child.exited = True
    child.finish()


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
            elif what == 'exit':
                exited(key.fileobj, child)


if __name__ == '__main__':
    try:
        main()
        flush()
    except BrokenPipeError:
        pass
