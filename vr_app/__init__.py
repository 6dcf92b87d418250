"""vr_app"""
