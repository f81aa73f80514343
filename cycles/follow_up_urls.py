"""HTML pages of the rollout plans and the half-yearly follow-up cases.

Included from cycles/urls.py, so the names live in the ``cycles`` namespace
(``cycles:follow_up_list``).
"""

from django.urls import path

from cycles import follow_up_views as views

urlpatterns = [
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up_detail"),
    path("follow-ups/<int:pk>/save/", views.follow_up_save, name="follow_up_save"),
    path("follow-ups/<int:pk>/mark-ready/", views.follow_up_mark_ready,
         name="follow_up_mark_ready"),
    path("follow-ups/<int:pk>/return/", views.follow_up_return, name="follow_up_return"),
    path("follow-ups/<int:pk>/acknowledge/", views.follow_up_acknowledge,
         name="follow_up_acknowledge"),
    path("follow-ups/<int:pk>/board-remarks/", views.board_remark_add,
         name="follow_up_board_remark"),
    path("follow-ups/<int:pk>/board-remarks/<int:remark_pk>/answer/",
         views.board_remark_answer, name="follow_up_board_remark_answer"),
    path("follow-ups/<int:pk>/close/", views.follow_up_close, name="follow_up_close"),
    path("rollouts/", views.rollout_list, name="rollout_list"),
    path("rollouts/<int:pk>/", views.rollout_detail, name="rollout_detail"),
    path("rollouts/<int:pk>/presentation/", views.rollout_presentation,
         name="rollout_presentation"),
]
