from . import bank
