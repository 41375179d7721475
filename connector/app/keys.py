"""Typed application keys shared by the route modules."""

from aiohttp import web

from connector.app.node import Node

NODE = web.AppKey("node", Node)
