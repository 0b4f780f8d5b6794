import { describeServiceBasics } from '@app/testing';
import { AppModule } from '../src/app.module';

describeServiceBasics('memory-gateway', AppModule);
