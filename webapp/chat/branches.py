"""Which messages a thread shows: its messages form a tree, and the thread shows one branch of it.

Each message names its parent, the message it answers or follows. A regenerated reply, or an
edited question, is a sibling of the one it replaces, so every version stays one switch away.
The thread keeps the leaf of the branch the user picked; from the top, the branch goes on through
the child that leads to that leaf, or else through the newest child. Deleted messages (undoable
for a while) are steps of a branch that nobody is shown.

Everything that lists a thread's messages (the page, the model's context and its summary, titles,
exports, search) goes through this walk, on one query of the thread: `selected_branch` reads
only its shape (ids and parents; the page then loads the fifty messages it shows), and
`selected_path` its whole rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..models import Message, Thread

# Rows asked for in one IN (...): well below every database's limit on bound parameters.
LOAD_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    parent_id: str | None
    deleted: bool


@dataclass(frozen=True, slots=True)
class Versions:
    """Where a message stands among its siblings: "‹ number/count ›"."""

    number: int
    count: int
    previous_id: str | None
    next_id: str | None


class Tree:
    """The shape of one thread: its messages' ids and parents, oldest first."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = {node.id: node for node in nodes}
        self.children: dict[str | None, list[Node]] = {}
        for node in self.nodes.values():
            # A parent from another thread, or gone, makes a top message: never a lost one.
            parent = node.parent_id if node.parent_id in self.nodes else None
            self.children.setdefault(parent, []).append(node)
        self._showing = self._subtrees_showing_a_message()

    def _subtrees_showing_a_message(self) -> set[str]:
        """The ids under which (themselves included) some message is not deleted."""
        order: list[Node] = []
        pending = list(self.children.get(None, []))
        while pending:  # a parent always comes before its children in `order`
            node = pending.pop()
            order.append(node)
            pending.extend(self.children.get(node.id, []))
        showing: set[str] = set()
        for node in reversed(order):
            if not node.deleted or any(child.id in showing for child in self.children.get(node.id, [])):
                showing.add(node.id)
        return showing

    def ancestry(self, message_id: str | None) -> list[Node]:
        """The steps from the top down to `message_id` (empty if it is not in the thread)."""
        steps: list[Node] = []
        node = self.nodes.get(message_id or "")
        while node is not None and len(steps) <= len(self.nodes):
            steps.append(node)
            node = self.nodes.get(node.parent_id or "")
        return steps[::-1]

    def descend(self, start: Node | None, leaf_id: str | None) -> list[Node]:
        """From `start` (the top when None) down to a leaf: towards `leaf_id`, else the newest child."""
        towards = {node.id for node in self.ancestry(leaf_id)}
        steps = [start] if start is not None else []
        candidates = self.children.get(start.id if start else None, [])
        while candidates and len(steps) <= len(self.nodes):
            node = self._choose(candidates, towards)
            steps.append(node)
            candidates = self.children.get(node.id, [])
        return steps

    def _choose(self, candidates: list[Node], towards: set[str]) -> Node:
        # A deleted reply with nothing after it does not hide its shown siblings.
        pool = [node for node in candidates if node.id in self._showing] or candidates
        return next((node for node in pool if node.id in towards), pool[-1])

    def versions(self, message_id: str) -> Versions | None:
        """The message's place among its shown siblings, or None when it has none."""
        node = self.nodes[message_id]
        parent = node.parent_id if node.parent_id in self.nodes else None
        siblings = [sibling.id for sibling in self.children.get(parent, []) if not sibling.deleted]
        if len(siblings) < 2 or message_id not in siblings:
            return None
        index = siblings.index(message_id)
        return Versions(
            index + 1,
            len(siblings),
            siblings[index - 1] if index else None,
            siblings[index + 1] if index + 1 < len(siblings) else None,
        )


@dataclass
class Branch:
    """One branch of a thread, top first."""

    tree: Tree
    steps: list[Node]
    ids: list[str] = field(init=False)
    _shown: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = [node.id for node in self.steps if not node.deleted]
        self._shown = set(self.ids)

    @property
    def tip_id(self) -> str | None:
        """Where a new message goes: the end of the branch, deleted steps included (an undo puts them back)."""
        return self.steps[-1].id if self.steps else None

    @property
    def last_id(self) -> str | None:
        """The last message shown."""
        return self.ids[-1] if self.ids else None

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._shown

    def versions(self, messages: Iterable[Message]) -> dict[str, Versions]:
        """The version switch of each of `messages` that has siblings."""
        found = {m.id: self.tree.versions(m.id) for m in messages if m.id in self.tree.nodes}
        return {id_: versions for id_, versions in found.items() if versions is not None}


def _nodes(thread_ids: Collection[str]) -> dict[str, list[Node]]:
    statement = (
        sa.select(Message.thread_id, Message.id, Message.parent_id, Message.deleted_at.is_not(None))
        .where(Message.thread_id.in_(thread_ids))
        .order_by(Message.created_at, Message.id)
    )
    found: dict[str, list[Node]] = {thread_id: [] for thread_id in thread_ids}
    for thread_id, id_, parent_id, deleted in db.session.execute(statement):
        found[thread_id].append(Node(id_, parent_id, bool(deleted)))
    return found


def _branch(tree: Tree, thread: Thread, through: Message | None) -> Branch:
    if through is not None:
        return Branch(tree, tree.ancestry(through.id))
    return Branch(tree, tree.descend(None, thread.current_leaf_id))


def selected_branch(thread: Thread, *, through: Message | None = None) -> Branch:
    """The branch the thread shows; with `through`, the branch that ends at that message instead."""
    return _branch(Tree(_nodes([thread.id])[thread.id]), thread, through)


def selected_path(thread: Thread, *, through: Message | None = None) -> list[Message]:
    """The messages the thread shows, oldest first (with `through`: those up to that message).

    One query for the whole thread, versions not shown included: for the callers that need
    every message of the branch (the model's context, exports), fewer round trips than two.
    """
    statement = sa.select(Message).where(Message.thread_id == thread.id).order_by(Message.created_at, Message.id)
    messages = {message.id: message for message in db.session.scalars(statement)}
    tree = Tree(Node(m.id, m.parent_id, m.deleted_at is not None) for m in messages.values())
    return [messages[id_] for id_ in _branch(tree, thread, through).ids]


def selected_ids(thread_ids: Collection[str]) -> set[str]:
    """The ids of the messages that these threads show, in two queries whatever their number."""
    if not thread_ids:
        return set()
    statement = sa.select(Thread.id, Thread.current_leaf_id).where(Thread.id.in_(thread_ids))
    leaves = dict(db.session.execute(statement).all())
    shown: set[str] = set()
    for thread_id, nodes in _nodes(list(leaves)).items():
        tree = Tree(nodes)
        shown.update(Branch(tree, tree.descend(None, leaves[thread_id])).ids)
    return shown


def leaf_below(thread: Thread, message: Message) -> str:
    """The leaf the thread selects when the user switches to `message`: the selected one if it is
    below it already, else down the newest children."""
    tree = Tree(_nodes([thread.id])[thread.id])
    return tree.descend(tree.nodes[message.id], thread.current_leaf_id)[-1].id


def load(ids: Sequence[str]) -> list[Message]:
    """The messages `ids`, in that order."""
    found: dict[str, Message] = {}
    for start in range(0, len(ids), LOAD_CHUNK):
        chunk = ids[start : start + LOAD_CHUNK]
        found.update((m.id, m) for m in db.session.scalars(sa.select(Message).where(Message.id.in_(chunk))))
    return [found[id_] for id_ in ids if id_ in found]
