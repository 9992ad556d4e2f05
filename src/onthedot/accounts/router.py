"""HTTP routes for the workspace, its members and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, status

from onthedot.accounts import service
from onthedot.accounts.schemas import (
    MemberCreate,
    MemberOut,
    MemberUpdate,
    TokenCreate,
    TokenCreated,
    TokenOut,
    WorkspaceCreate,
    WorkspaceCreated,
    WorkspaceOut,
    WorkspaceUpdate,
)
from onthedot.db.base import Id
from onthedot.deps import ClockDep, MemberDep, SessionDep

router = APIRouter(tags=["workspace"])


@router.get("/workspace", response_model=WorkspaceOut)
async def read_workspace(session: SessionDep, member: MemberDep) -> object:
    return await service.get_workspace(session, workspace_id=member.workspace_id)


@router.patch("/workspace", response_model=WorkspaceOut)
async def update_workspace(body: WorkspaceUpdate, session: SessionDep, member: MemberDep) -> object:
    return await service.rename_workspace(session, member=member, name=body.name)


@router.post("/workspaces", response_model=WorkspaceCreated, status_code=status.HTTP_201_CREATED)
async def create_workspace(
    body: WorkspaceCreate, session: SessionDep, member: MemberDep, clock: ClockDep
) -> object:
    """Create another workspace owned by the caller, with a token for it."""
    now = clock.now()
    user = await service.get_user(session, user_id=member.user_id)
    workspace, _ = await service.create_workspace(
        session, name=body.name, owner_email=user.email, now=now
    )
    token, plain = await service.create_token(
        session, workspace_id=workspace.id, user_id=user.id, name="api", now=now
    )
    return WorkspaceCreated(
        workspace=WorkspaceOut.model_validate(workspace),
        token=TokenCreated(**TokenOut.model_validate(token).model_dump(), token=plain),
    )


@router.get("/workspace/members", response_model=list[MemberOut])
async def list_members(session: SessionDep, member: MemberDep) -> object:
    rows = await service.list_members(session, member=member)
    return [
        MemberOut(user_id=u.id, email=u.email, role=m.role, created_at=m.created_at)
        for m, u in rows
    ]


@router.post("/workspace/members", response_model=MemberOut, status_code=status.HTTP_201_CREATED)
async def add_member(
    body: MemberCreate, session: SessionDep, member: MemberDep, clock: ClockDep
) -> object:
    m, u = await service.add_member(
        session, member=member, email=body.email, role=body.role, now=clock.now()
    )
    return MemberOut(user_id=u.id, email=u.email, role=m.role, created_at=m.created_at)


@router.patch("/workspace/members/{user_id}", response_model=MemberOut)
async def change_role(
    user_id: Id, body: MemberUpdate, session: SessionDep, member: MemberDep
) -> object:
    m = await service.change_role(session, member=member, user_id=user_id, role=body.role)
    user = await service.get_user(session, user_id=user_id)
    return MemberOut(user_id=user.id, email=user.email, role=m.role, created_at=m.created_at)


@router.delete("/workspace/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(user_id: Id, session: SessionDep, member: MemberDep) -> None:
    await service.remove_member(session, member=member, user_id=user_id)


@router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(session: SessionDep, member: MemberDep) -> object:
    return await service.list_tokens(session, member=member)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
async def create_token(
    body: TokenCreate, session: SessionDep, member: MemberDep, clock: ClockDep
) -> object:
    token, plain = await service.create_token(
        session,
        workspace_id=member.workspace_id,
        user_id=member.user_id,
        name=body.name,
        now=clock.now(),
    )
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
async def revoke_token(
    token_id: Id, session: SessionDep, member: MemberDep, clock: ClockDep
) -> object:
    return await service.revoke_token(session, member=member, token_id=token_id, now=clock.now())
