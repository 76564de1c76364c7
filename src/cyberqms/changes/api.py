from ninja import Router

router = Router(tags=["Change control"])
