// Nest's Express instance, initialised but not listening: corral dist/handler.js:createApp().
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';

export async function createApp(): Promise<unknown> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  await app.init();
  return app.getHttpAdapter().getInstance();
}
